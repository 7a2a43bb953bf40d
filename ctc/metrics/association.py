"""Track-level views of one frame-by-frame matching, shared by the biological and MOT measures.

Every measure beyond SEG/DET/TRA/LNK starts from the same
:class:`~ctc.metrics.aogm.DetectionTest` (reference and result vertices and
their matches, computed once per evaluation) and from the two track tables:

- :class:`Assignment`: for every reference vertex, the result label it is
  assigned to: the label of the result object that matches it, provided
  that object matches no other reference object (0 otherwise);
- :func:`continuation_roots`: tracks whose parent has that one child are the
  same cell seen again after a gap; the multi-object-tracking measures join
  them into one track (as py-ctcmetrics does);
- :class:`TrackConfusion`: how many frames each (joined) reference track is
  matched to each (joined) result track, missed, or falsely detected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctc.errors import CTCFormatError
from ctc.lineage import TrackTable
from ctc.metrics.aogm import LABEL_MASK, DetectionTest, lookup_sorted


@dataclass(frozen=True)
class Assignment:
    """Per reference vertex (in the order of ``DetectionTest.ref_keys``).

    Attributes
    ----------
    keys : ndarray
        Sorted vertex keys ``frame << 32 | label``.
    frame, label : ndarray
        Frame and reference label of each vertex.
    assigned : ndarray
        Result label uniquely matched to the vertex, 0 when none.
    """

    keys: np.ndarray
    frame: np.ndarray
    label: np.ndarray
    assigned: np.ndarray

    def lookup(self) -> dict[int, int]:
        """Vertex key -> assigned result label, for the vertices that have one."""
        hit = self.assigned > 0
        return dict(zip(self.keys[hit].tolist(), self.assigned[hit].tolist(), strict=True))


def assign(test: DetectionTest) -> Assignment:
    """The unique assignment of every reference vertex to a result label."""
    keys = test.ref_keys
    assigned = np.zeros(len(keys), np.int64)
    unique = test.hits[test.res_idx] == 1
    assigned[test.ref_idx[unique]] = test.res_keys[test.res_idx[unique]] & LABEL_MASK
    return Assignment(keys, keys >> 32, keys & LABEL_MASK, assigned)


def children_per_parent(tracks: TrackTable) -> tuple[np.ndarray, np.ndarray]:
    """Labels that are some track's parent (ascending) and how many children each has."""
    parents = tracks.to_array()[:, 3]
    return np.unique(parents[parents > 0], return_counts=True)


def continuation_roots(tracks: TrackTable) -> dict[int, int]:
    """Label -> label of the track it continues (itself when it starts a cell's track).

    A track whose parent has no other child continues its parent: the cell
    disappeared for some frames and was given a new label. Chains resolve to
    their first track.
    """
    parents, counts = children_per_parent(tracks)
    single = set(parents[counts == 1].tolist())
    rows = tracks.to_array()
    root: dict[int, int] = {}
    for label, _, _, parent in sorted(rows.tolist(), key=lambda r: (r[1], r[0])):
        root[label] = root.get(parent, parent) if parent in single else label
    return root


@dataclass(frozen=True)
class JoinedTracks:
    """Tracks after joining continuations: one row per cell track.

    ``labels`` are the root labels (ascending), ``parent`` the index (into
    ``labels``) of each track's parent, -1 for none.
    """

    labels: np.ndarray
    parent: np.ndarray

    def index(self, labels: np.ndarray, source: str = "track table") -> np.ndarray:
        """Row of each root label; every label must be one of ``labels``."""
        pos, found = lookup_sorted(self.labels, labels)
        if not found.all():
            raise CTCFormatError(f"label {int(labels[np.flatnonzero(~found)[0]])} of the masks "
                                 "has no line in the track table", source)
        return pos


def join_tracks(tracks: TrackTable) -> tuple[JoinedTracks, dict[int, int]]:
    """The joined track forest and the label -> root label map."""
    root = continuation_roots(tracks)
    labels = np.array(sorted(set(root.values())), np.int64)
    parent = np.full(len(labels), -1, np.int64)
    for label in labels.tolist():
        p = tracks[label].parent
        if p and p in root:
            parent[np.searchsorted(labels, label)] = np.searchsorted(labels, root[p])
    return JoinedTracks(labels, parent), root


def _map_labels(labels: np.ndarray, root: dict[int, int]) -> np.ndarray:
    """Root label of every label (labels absent from the table stay themselves)."""
    if not len(labels):
        return labels.copy()
    uniq, inverse = np.unique(labels, return_inverse=True)
    mapped = np.array([root.get(int(u), int(u)) for u in uniq], np.int64)
    return mapped[inverse]


@dataclass(frozen=True)
class TrackConfusion:
    """Frame counts between joined reference tracks (rows) and result tracks (columns).

    Attributes
    ----------
    ref, res : JoinedTracks
        The joined tracks; row ``i`` is ``ref.labels[i]``, column ``j`` is
        ``res.labels[j]``.
    pair_ref, pair_res, pair_count : ndarray
        Every (row, column) matched in at least one frame and in how many
        (one per matched vertex pair, a result object covering two reference
        objects counting for both), sorted by row then column.
    missed : ndarray
        Per row: reference vertices matched to nothing.
    false : ndarray
        Per column: result vertices matching nothing.
    match_row, match_col : ndarray
        Row and column of every matched vertex pair, in the order of
        ``DetectionTest.ref_idx``.
    """

    ref: JoinedTracks
    res: JoinedTracks
    pair_ref: np.ndarray
    pair_res: np.ndarray
    pair_count: np.ndarray
    missed: np.ndarray
    false: np.ndarray
    match_row: np.ndarray
    match_col: np.ndarray

    @property
    def row_total(self) -> np.ndarray:
        """Per reference track: all its vertices (matched pairs + missed)."""
        return np.bincount(self.pair_ref, self.pair_count, len(self.missed)) + self.missed

    @property
    def col_total(self) -> np.ndarray:
        """Per result track: matched pairs + false vertices."""
        return np.bincount(self.pair_res, self.pair_count, len(self.false)) + self.false

    @property
    def TP(self) -> int:
        return int(self.pair_count.sum())

    @property
    def FN(self) -> int:
        return int(self.missed.sum())

    @property
    def FP(self) -> int:
        return int(self.false.sum())


def track_confusion(test: DetectionTest, ref_tracks: TrackTable,
                    res_tracks: TrackTable) -> TrackConfusion:
    """Count matched, missed and false frames per pair of joined tracks."""
    ref, ref_root = join_tracks(ref_tracks)
    res, res_root = join_tracks(res_tracks)
    ref_row = ref.index(_map_labels(test.ref_keys & LABEL_MASK, ref_root), "man_track.txt")
    res_col = res.index(_map_labels(test.res_keys & LABEL_MASK, res_root), "res_track.txt")
    rows, cols = ref_row[test.ref_idx], res_col[test.res_idx]
    n_cols = max(len(res.labels), 1)
    pairs, counts = np.unique(rows * n_cols + cols, return_counts=True)
    missed = np.bincount(ref_row[~test.ref_matched], minlength=len(ref.labels))
    false = np.bincount(res_col[test.hits == 0], minlength=len(res.labels))
    return TrackConfusion(ref, res, pairs // n_cols, pairs % n_cols, counts.astype(np.int64),
                          missed.astype(np.int64), false.astype(np.int64), rows, cols)
