"""The CTC track table (``L B E P`` lines) and the graphs derived from it.

``man_track.txt`` and ``res_track.txt`` list one track per line: label, first
frame, last frame (both inclusive) and parent label (0 for none), separated by
spaces or tabs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctc.errors import CTCFormatError
from ctc.limits import MAX_FRAMES, MAX_LABEL

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, order=True)
class Track:
    """One line of a track table: label `label` exists from `begin` to `end` (inclusive)."""

    label: int
    begin: int
    end: int
    parent: int = 0


@dataclass(frozen=True)
class TrackProblem:
    """A problem with one line (or one track) of a track file."""

    code: str
    message: str
    line: int | None = None
    label: int | None = None


class TrackTable:
    """An ordered collection of :class:`Track`, keyed by label.

    Parameters
    ----------
    tracks : iterable of Track
        Tracks with unique labels.
    """

    def __init__(self, tracks: Iterable[Track] = ()):
        self._tracks: dict[int, Track] = {}
        for track in tracks:
            if track.label in self._tracks:
                raise ValueError(f"duplicate track label {track.label}")
            self._tracks[track.label] = track

    @classmethod
    def from_array(cls, rows: np.ndarray) -> TrackTable:
        """Build from an ``(N, 4)`` integer array of ``L B E P`` rows."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
        return cls(Track(*map(int, row)) for row in rows)

    def to_array(self) -> np.ndarray:
        """The table as an ``(N, 4)`` int64 array of ``L B E P`` rows."""
        return np.array(
            [(t.label, t.begin, t.end, t.parent) for t in self], dtype=np.int64
        ).reshape(-1, 4)

    def __len__(self) -> int:
        return len(self._tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self._tracks.values())

    def __contains__(self, label: object) -> bool:
        return label in self._tracks

    def __getitem__(self, label: int) -> Track:
        return self._tracks[label]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrackTable) and sorted(self) == sorted(other)

    def __repr__(self) -> str:
        return f"TrackTable({len(self)} tracks)"

    @property
    def labels(self) -> list[int]:
        return list(self._tracks)

    def children(self, label: int) -> list[int]:
        """Labels whose parent is `label`."""
        return [t.label for t in self if t.parent == label]

    def active(self, frame: int) -> list[int]:
        """Labels whose ``[begin, end]`` contains `frame`."""
        return [t.label for t in self if t.begin <= frame <= t.end]

    def to_text(self) -> str:
        """Serialise as ``L B E P`` lines, space-separated, sorted by label."""
        return "".join(
            f"{t.label} {t.begin} {t.end} {t.parent}\n" for t in sorted(self)
        )

    def lineage_graph(self) -> nx.DiGraph:
        """Directed graph of track labels with an edge parent -> child.

        Nodes carry ``begin`` and ``end`` attributes; parents missing from the
        table are left out.
        """
        import networkx as nx  # imported on use: it slows down every CLI start-up

        graph = nx.DiGraph()
        for t in self:
            graph.add_node(t.label, begin=t.begin, end=t.end)
        for t in self:
            if t.parent and t.parent in self._tracks:
                graph.add_edge(t.parent, t.label)
        return graph

    def tracking_graph(self, presence: Mapping[int, Iterable[int]] | None = None) -> nx.DiGraph:
        """Object-level graph used by the tracking measures.

        Nodes are ``(frame, label)`` pairs. A ``"track"`` edge joins two
        consecutive appearances of a label; a ``"parent"`` edge joins the last
        appearance of a parent to the first appearance of each child.

        Parameters
        ----------
        presence : mapping frame -> labels, optional
            Labels actually present in each frame (from the masks). By default
            every label is assumed present in every frame of its ``[begin, end]``.
        """
        import networkx as nx

        frames_of: dict[int, list[int]] = {}
        if presence is None:
            for t in self:
                frames_of[t.label] = list(range(t.begin, t.end + 1))
        else:
            for frame in sorted(presence):
                for label in presence[frame]:
                    frames_of.setdefault(int(label), []).append(frame)
        graph = nx.DiGraph()
        for label, frames in frames_of.items():
            graph.add_nodes_from((f, label) for f in frames)
            graph.add_edges_from(
                [((a, label), (b, label)) for a, b in zip(frames[:-1], frames[1:], strict=True)],
                kind="track",
            )
        for t in self:
            if t.parent and t.parent in frames_of and frames_of.get(t.label):
                graph.add_edge(
                    (frames_of[t.parent][-1], t.parent),
                    (frames_of[t.label][0], t.label),
                    kind="parent",
                )
        return graph


_INTEGER = re.compile(r"^-?[0-9]+$")


def parse_tracks(text: str) -> tuple[list[Track], list[TrackProblem]]:
    """Parse ``L B E P`` lines leniently, collecting every syntax problem.

    Blank lines are ignored; columns may be separated by spaces or tabs.

    Returns
    -------
    tracks : list of Track
        The well-formed lines, in file order (duplicates included).
    problems : list of TrackProblem
        One entry per malformed line.
    """
    tracks: list[Track] = []
    problems: list[TrackProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            problems.append(TrackProblem(
                "track-columns",
                f"line {number}: {len(fields)} columns, expected 4 ('L B E P'): {line.strip()!r}",
                line=number,
            ))
            continue
        if not all(_INTEGER.match(f) for f in fields):
            # int() would also take '0_0', '+3' and non-ASCII digits, which CTC tools refuse
            problems.append(TrackProblem(
                "track-not-integer",
                f"line {number}: non-integer value in {line.strip()!r}; "
                "write label, begin, end and parent as whole numbers (digits only)",
                line=number,
            ))
            continue
        # Longer digit strings are out of range anyway; clipping them keeps int() cheap.
        values = [int(f) if len(f) <= 12 else (-1 if f[0] == "-" else 10 ** 12)
                  for f in fields]
        if min(values) < 0:
            problems.append(TrackProblem(
                "track-negative",
                f"line {number}: negative value in {line.strip()!r}",
                line=number,
                label=values[0],
            ))
            continue
        if values[0] == 0:
            problems.append(TrackProblem(
                "track-label-zero",
                f"line {number}: label 0 is the background and cannot be a track",
                line=number,
            ))
            continue
        if values[0] > MAX_LABEL or values[3] > MAX_LABEL:
            problems.append(TrackProblem(
                "track-label-too-large",
                f"line {number}: label or parent above {MAX_LABEL} in {line.strip()!r}; "
                "CTC masks are uint16, so labels run from 1 to 65535",
                line=number,
            ))
            continue
        if max(values[1], values[2]) >= MAX_FRAMES:
            problems.append(TrackProblem(
                "track-frame-too-large",
                f"line {number}: frame number above {MAX_FRAMES - 1} in {line.strip()!r}",
                line=number, label=values[0],
            ))
            continue
        tracks.append(Track(*values))
    return tracks, problems


def check_tracks(tracks: list[Track], n_frames: int | None = None) -> list[TrackProblem]:
    """Check the CTC lineage rules on parsed tracks, returning every violation.

    Rules: unique labels; ``begin <= end``; both inside ``0 .. n_frames-1``
    when `n_frames` is given; parents exist, differ from the child, and end
    strictly before the child begins.
    """
    problems: list[TrackProblem] = []
    by_label: dict[int, Track] = {}
    for t in tracks:
        if t.label in by_label:
            problems.append(TrackProblem(
                "track-duplicate",
                f"label {t.label} is declared more than once; keep one line per label",
                label=t.label,
            ))
        else:
            by_label[t.label] = t
        if t.begin > t.end:
            problems.append(TrackProblem(
                "track-begin-after-end",
                f"label {t.label}: begin {t.begin} > end {t.end}",
                label=t.label,
            ))
        if n_frames is not None and (t.end >= n_frames or t.begin >= n_frames):
            problems.append(TrackProblem(
                "track-out-of-range",
                f"label {t.label}: frames {t.begin}-{t.end} lie outside the "
                f"sequence's 0-{n_frames - 1}",
                label=t.label,
            ))
    for t in tracks:
        if t.parent == 0:
            continue
        if t.parent == t.label:
            problems.append(TrackProblem(
                "parent-self", f"label {t.label} is its own parent", label=t.label
            ))
        elif t.parent not in by_label:
            problems.append(TrackProblem(
                "parent-missing",
                f"label {t.label}: parent {t.parent} is not declared; "
                "declare it or set the parent to 0",
                label=t.label,
            ))
        elif t.begin <= by_label[t.parent].end:
            problems.append(TrackProblem(
                "parent-not-ended",
                f"label {t.label} begins at frame {t.begin} but its parent {t.parent} "
                f"ends at frame {by_label[t.parent].end}; a child must begin after its parent ends",
                label=t.label,
            ))
    return problems


# Problems that make a table structurally unusable (as opposed to breaking a lineage rule).
_STRUCTURAL = {
    "track-columns", "track-not-integer", "track-negative", "track-label-zero",
    "track-label-too-large", "track-frame-too-large",
    "track-duplicate", "track-begin-after-end", "parent-missing", "parent-self",
}


def read_tracks(path: str | Path) -> TrackTable:
    """Read a ``man_track.txt`` / ``res_track.txt`` file.

    Raises
    ------
    CTCFormatError
        Naming the file and listing every structural problem: wrong column
        count, non-integers, negative values, duplicate labels, begin > end,
        undeclared or self parents. (Lineage-order problems are left to
        :func:`ctc.validate_result`.)
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise CTCFormatError("track file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CTCFormatError(f"unreadable track file ({exc})", path) from None
    tracks, problems = parse_tracks(text)
    problems += [p for p in check_tracks(tracks) if p.code in _STRUCTURAL]
    if problems:
        listing = "; ".join(p.message for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise CTCFormatError(f"invalid track table: {listing}{more}", path)
    return TrackTable(tracks)


def write_tracks(path: str | Path, table: TrackTable | Iterable[Track]) -> None:
    """Write a track table as ``L B E P`` lines (space-separated, sorted by label)."""
    table = table if isinstance(table, TrackTable) else TrackTable(table)
    Path(path).write_text(table.to_text())
