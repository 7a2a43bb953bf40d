"""Division detection counts: which reference divisions the result reproduces.

A division is a parent track with two or more children. A result division
matches a reference division when the parent's last object and every
daughter's first object are matched one-to-one (the detection test of the
tracking measures) to the reference mother and daughters, in the same
frames: the strict, zero-tolerance form of the CTC branching correctness.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctc.lineage import TrackTable
from ctc.metrics.aogm import FrameVertices, unique_matches


@dataclass(frozen=True)
class DivisionCounts:
    """Correct (TP), false (FP) and missed (FN) divisions."""

    TP: int
    FP: int
    FN: int


def _divisions(tracks: TrackTable) -> dict[int, tuple[int, frozenset[int]]]:
    """Mother vertex key -> daughter vertex keys, for every parent with >= 2 children."""
    kids: dict[int, list[int]] = {}
    for t in tracks:
        if t.parent and t.parent in tracks:
            kids.setdefault(t.parent, []).append(t.label)
    out = {}
    for mother, daughters in kids.items():
        if len(daughters) >= 2:
            key = (tracks[mother].end << 32) | mother
            out[key] = frozenset((tracks[d].begin << 32) | d for d in daughters)
    return out


def count_divisions(frames: list[FrameVertices], ref_tracks: TrackTable,
                    res_tracks: TrackTable) -> DivisionCounts:
    """Count correct, false and missed divisions of a result."""
    to_ref = unique_matches(frames)
    ref_div = _divisions(ref_tracks)
    res_div = _divisions(res_tracks)
    tp = 0
    for mother, daughters in res_div.items():
        m = to_ref.get(mother)
        mapped = frozenset(to_ref.get(d, -1) for d in daughters)
        if m is not None and ref_div.get(m) == mapped:
            tp += 1
    return DivisionCounts(tp, len(res_div) - tp, len(ref_div) - tp)
