"""AOGM: the graph-correction counts behind DET, TRA and LNK (Matula et al., 2015).

Both the reference and the result become acyclic oriented graphs whose
vertices are the objects of every frame and whose edges are

- track links: a label present in frames t and t+1;
- parent links: from the last frame of a parent track to the first frame of
  each child track (``res_track.txt`` / ``man_track.txt``).

An edge's semantics is whether the label changes along it (the official
tool's rule). Reference vertices are matched to result vertices frame by
frame; the counts of the operations that turn the result graph into the
reference graph are

- NS: a result vertex matching k > 1 reference vertices needs k-1 splits;
- FN: an unmatched reference vertex; FP: an unmatched result vertex;
- ED / EA: a result edge (between uniquely matched vertices) absent from the
  reference / a reference edge absent from the result;
- EC: an edge present in both with different semantics.

Everything is vectorised over whole sequences: a vertex is the int64 key
``frame << 32 | label``, sorted, so that edges and matches are found with
``searchsorted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctc.errors import CTCFormatError
from ctc.lineage import TrackTable

LABEL_MASK = np.int64(0xFFFFFFFF)


@dataclass(frozen=True)
class FrameVertices:
    """The vertices of one frame and their matching (all arrays int64)."""

    frame: int
    ref_labels: np.ndarray
    res_labels: np.ndarray
    match_ref: np.ndarray
    match_res: np.ndarray


@dataclass
class AOGMErrors:
    """The individual graph errors, as in the official ``TRA_log.txt``.

    Vertices are ``(frame, label)``; edges are ``((frame, label), (frame, label))``;
    ``NS`` lists each result object that covers several markers once, with the
    reference labels it covers.
    Reference (GT) labels are used for FN and EA, result labels otherwise.
    """

    NS: list[tuple[int, int, list[int]]] = field(default_factory=list)
    FN: list[tuple[int, int]] = field(default_factory=list)
    FP: list[tuple[int, int]] = field(default_factory=list)
    ED: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    EA: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    EC: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    def to_text(self, measure: str | None = None, value: float | None = None) -> str:
        """Format like the official log: one section per error type."""
        lines = ["----------Splitting Operations (Penalty=5)----------"]
        # The official log repeats the result object once per split it needs (k-1 lines
        # for an object covering k markers), so that its line count is NS.
        lines += [f"T={t} Label={r}" for t, r, g in self.NS for _ in range(len(g) - 1)]
        lines.append("----------False Negative Vertices (Penalty=10)----------")
        lines += [f"T={t} GT_label={g}" for t, g in self.FN]
        lines.append("----------False Positive Vertices (Penalty=1)----------")
        lines += [f"T={t} Label={r}" for t, r in self.FP]
        lines.append("----------Redundant Edges To Be Deleted (Penalty=1)----------")
        lines += [f"[T={a[0]} Label={a[1]}] -> [T={b[0]} Label={b[1]}]" for a, b in self.ED]
        lines.append("----------Edges To Be Added (Penalty=1.5)----------")
        lines += [f"[T={a[0]} GT_label={a[1]}] -> [T={b[0]} GT_label={b[1]}]"
                  for a, b in self.EA]
        lines.append("----------Edges with Wrong Semantics (Penalty=1)----------")
        lines += [f"[T={a[0]} Label={a[1]}] -> [T={b[0]} Label={b[1]}]" for a, b in self.EC]
        if measure is not None and value is not None:
            lines.append("=" * 81)
            lines.append(f"{measure} measure: {value:.6f}")
        return "\n".join(lines) + "\n"


@dataclass
class AOGMCounts:
    """Error counts and the size of the reference graph."""

    NS: int
    FN: int
    FP: int
    ED: int
    EA: int
    EC: int
    n_vertices: int
    n_edges: int
    errors: AOGMErrors | None = None


def vertex_keys(frames: list[FrameVertices], side: str) -> np.ndarray:
    """Sorted int64 keys ``frame << 32 | label`` of the reference or result vertices."""
    parts = [np.int64(f.frame) << 32 | getattr(f, f"{side}_labels") for f in frames]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def lookup_sorted(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `wanted` in sorted `keys`, and which were found."""
    pos = np.searchsorted(keys, wanted)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    found = (pos < len(keys)) & (keys[pos_c] == wanted) if len(keys) else np.zeros(
        len(wanted), bool)
    return pos_c, found


def graph_edges(keys: np.ndarray, tracks: TrackTable | None,
                source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges of the graph on vertices `keys`: (source index, target index, semantics).

    Semantics is 1 where the label changes along the edge (parent link), 0
    where it stays (track link).

    Raises
    ------
    CTCFormatError
        When a parent link points at a vertex that no mask contains.
    """
    frames, labels = keys >> 32, keys & LABEL_MASK
    pos, found = lookup_sorted(keys, ((frames + 1) << 32) | labels)
    src = [np.flatnonzero(found)]
    dst = [pos[found]]
    if tracks is not None and len(tracks):
        rows = tracks.to_array()
        rows = rows[rows[:, 3] != 0]
        by_label = {int(label): int(end) for label, _, end, _ in tracks.to_array()}
        missing_parent = [int(p) for p in rows[:, 3] if int(p) not in by_label]
        if missing_parent:
            raise CTCFormatError(f"parent labels {missing_parent[:5]} are not declared",
                                 source)
        parent_end = np.array([by_label[int(p)] for p in rows[:, 3]], np.int64)
        s_pos, s_found = lookup_sorted(keys, (parent_end << 32) | rows[:, 3])
        d_pos, d_found = lookup_sorted(keys, (rows[:, 1] << 32) | rows[:, 0])
        bad = ~(s_found & d_found)
        if bad.any():
            label, begin, _, parent = rows[np.flatnonzero(bad)[0]]
            raise CTCFormatError(
                f"the link of track {label} (frame {begin}) to its parent {parent} "
                f"(frame {by_label[int(parent)]}) points at an object absent from the masks; "
                "check the result with `ctc validate`", source)
        src.append(s_pos)
        dst.append(d_pos)
    src_a, dst_a = np.concatenate(src), np.concatenate(dst)
    semantics = (labels[src_a] != labels[dst_a]).astype(np.int8)
    return src_a, dst_a, semantics


@dataclass
class DetectionTest:
    """Vertices of both graphs, their matches, and the vertex errors NS, FN, FP."""

    ref_keys: np.ndarray
    res_keys: np.ndarray
    ref_idx: np.ndarray       # per match: index of the reference vertex
    res_idx: np.ndarray       # per match: index of the result vertex
    hits: np.ndarray          # per result vertex: reference vertices it matches
    ref_matched: np.ndarray   # per reference vertex: matched at all

    @property
    def NS(self) -> int:
        return int(np.sum(self.hits[self.hits > 1] - 1))

    @property
    def FN(self) -> int:
        return int(np.count_nonzero(~self.ref_matched))

    @property
    def FP(self) -> int:
        return int(np.count_nonzero(self.hits == 0))


def detection_test(frames: list[FrameVertices]) -> DetectionTest:
    """Classify the vertices of a sequence (the node part of DET and TRA)."""
    ref_keys, res_keys = vertex_keys(frames, "ref"), vertex_keys(frames, "res")
    empty = [np.zeros(0, np.int64)]
    match_frames = np.concatenate(
        [np.full(len(f.match_ref), f.frame, np.int64) for f in frames] or empty)
    match_ref = np.concatenate([f.match_ref for f in frames] or empty)
    match_res = np.concatenate([f.match_res for f in frames] or empty)
    ref_idx = np.searchsorted(ref_keys, (match_frames << 32) | match_ref)
    res_idx = np.searchsorted(res_keys, (match_frames << 32) | match_res)
    hits = np.bincount(res_idx, minlength=len(res_keys))
    ref_matched = np.zeros(len(ref_keys), bool)
    ref_matched[ref_idx] = True
    return DetectionTest(ref_keys, res_keys, ref_idx, res_idx, hits, ref_matched)


def count_errors(frames: list[FrameVertices], ref_tracks: TrackTable,
                 res_tracks: TrackTable | None, *, collect: bool = False,
                 ref_source: str = "man_track.txt",
                 res_source: str = "res_track.txt",
                 test: DetectionTest | None = None) -> AOGMCounts:
    """Count the AOGM graph-correction operations of a whole sequence.

    Parameters
    ----------
    frames : list of FrameVertices
        Per-frame vertices and matches, in ascending frame order.
    ref_tracks, res_tracks : TrackTable
        Track tables of the reference and the result (None for the result
        when only the detection counts are wanted).
    collect : bool
        Also list every individual error.
    test : DetectionTest, optional
        ``detection_test(frames)``, when the caller already has it.

    Returns
    -------
    AOGMCounts
    """
    v = detection_test(frames) if test is None else test
    ref_keys, res_keys, ref_idx, res_idx = v.ref_keys, v.res_keys, v.ref_idx, v.res_idx
    hits, ref_matched = v.hits, v.ref_matched
    n_ns, n_fn, n_fp = v.NS, v.FN, v.FP

    # Result vertex -> reference vertex, for result vertices matching exactly one.
    to_ref = np.full(len(res_keys), -1, np.int64)
    unique = hits[res_idx] == 1
    to_ref[res_idx[unique]] = ref_idx[unique]

    g_src, g_dst, g_sem = graph_edges(ref_keys, ref_tracks, ref_source)
    n_ref = np.int64(len(ref_keys))
    g_edge = g_src * n_ref + g_dst
    g_order = np.argsort(g_edge)
    g_edge, g_sem = g_edge[g_order], g_sem[g_order]

    if res_tracks is None:
        n_ed = n_ec = 0
        n_ea = len(g_edge)
        e_src = e_dst = e_sem = np.zeros(0, np.int64)
        in_ref = np.zeros(0, bool)
        pos = np.zeros(0, np.int64)
        ref_has = np.zeros(len(g_edge), bool)
    else:
        e_src, e_dst, e_sem = graph_edges(res_keys, res_tracks, res_source)
        keep = (to_ref[e_src] >= 0) & (to_ref[e_dst] >= 0)  # induced on unique matches
        e_src, e_dst, e_sem = e_src[keep], e_dst[keep], e_sem[keep]
        mapped = to_ref[e_src] * n_ref + to_ref[e_dst]
        pos, in_ref = lookup_sorted(g_edge, mapped)
        ref_has = np.zeros(len(g_edge), bool)
        ref_has[pos[in_ref]] = True
        n_ed = int(np.count_nonzero(~in_ref))
        n_ea = int(np.count_nonzero(~ref_has))
        n_ec = int(np.count_nonzero(in_ref & (g_sem[pos] != e_sem)))

    counts = AOGMCounts(n_ns, n_fn, n_fp, n_ed, n_ea, n_ec, len(ref_keys), len(g_edge))
    if collect:
        counts.errors = _collect(ref_keys, res_keys, hits, res_idx, ref_idx, ref_matched,
                                 g_edge, ref_has, e_src, e_dst, e_sem, in_ref, pos, g_sem)
    return counts


def _vertex(key: np.int64) -> tuple[int, int]:
    return int(key >> 32), int(key & LABEL_MASK)


def _collect(ref_keys, res_keys, hits, res_idx, ref_idx, ref_matched, g_edge, ref_has,
             e_src, e_dst, e_sem, in_ref, pos, g_sem) -> AOGMErrors:
    errors = AOGMErrors()
    for r in np.flatnonzero(hits > 1):
        t, label = _vertex(res_keys[r])
        gts = sorted(_vertex(ref_keys[g])[1] for g in ref_idx[res_idx == r])
        errors.NS.append((t, label, gts))
    errors.FN = [_vertex(k) for k in ref_keys[~ref_matched]]
    errors.FP = [_vertex(k) for k in res_keys[hits == 0]]
    n_ref = len(ref_keys)
    errors.ED = [(_vertex(res_keys[s]), _vertex(res_keys[d]))
                 for s, d in zip(e_src[~in_ref], e_dst[~in_ref], strict=True)]
    errors.EA = [(_vertex(ref_keys[e // n_ref]), _vertex(ref_keys[e % n_ref]))
                 for e in g_edge[~ref_has]]
    wrong = in_ref & (g_sem[pos] != e_sem) if len(e_sem) else in_ref
    errors.EC = [(_vertex(res_keys[s]), _vertex(res_keys[d]))
                 for s, d in zip(e_src[wrong], e_dst[wrong], strict=True)]
    for name in ("NS", "FN", "FP", "ED", "EA", "EC"):
        getattr(errors, name).sort()
    return errors
