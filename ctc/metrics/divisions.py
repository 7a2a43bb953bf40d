"""Division detection: which reference divisions a result reproduces, within i frames.

A division is a parent track with two or more children. A result division
matches a reference division (the branching correctness BC(i) of the CTC
biological measures) when

- both have the same number of daughters;
- the two mothers end at most `tolerance` frames apart, and in the earlier
  of the two end frames the reference mother is assigned to the result
  mother (:func:`ctc.metrics.association.assign`: matched, and that result
  object matches no other reference object);
- every reference daughter pairs with a distinct result daughter that
  starts at most `tolerance` frames from it and is assigned to it in the
  later of the two start frames.

Each division is matched at most once (py-ctcmetrics 1.3.3 can count one
result division for two reference divisions when `tolerance` > 0; the
challenge's definition is a one-to-one correspondence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctc.lineage import TrackTable


@dataclass(frozen=True)
class Division:
    """A mother track's label and last frame, and its daughters' (label, first frame)."""

    mother: int
    end: int
    daughters: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class DivisionCounts:
    """Correct (TP), false (FP) and missed (FN) divisions, and which they are.

    ``false`` lists the result divisions matched to none, ``missed`` the
    reference divisions no result division matches.
    """

    TP: int
    FP: int
    FN: int
    false: tuple[Division, ...] = ()
    missed: tuple[Division, ...] = ()


def divisions(tracks: TrackTable) -> list[Division]:
    """Every division of a track table, by ascending mother label."""
    kids: dict[int, list[tuple[int, int]]] = {}
    for t in tracks:
        if t.parent and t.parent in tracks:
            kids.setdefault(t.parent, []).append((t.label, t.begin))
    return [Division(m, tracks[m].end, tuple(d)) for m, d in sorted(kids.items())
            if len(d) >= 2]


def _matches(ref: Division, res: Division, assigned: dict[int, int], tolerance: int) -> bool:
    if len(ref.daughters) != len(res.daughters):
        return False
    t = min(ref.end, res.end)
    if assigned.get((t << 32) | ref.mother) != res.mother:
        return False
    used: set[int] = set()
    for label, begin in ref.daughters:
        for other, other_begin in res.daughters:
            if other in used or abs(begin - other_begin) > tolerance:
                continue
            if assigned.get((max(begin, other_begin) << 32) | label) == other:
                used.add(other)
                break
        else:
            return False
    return True


def count_divisions(assigned: dict[int, int], ref_tracks: TrackTable, res_tracks: TrackTable,
                    tolerance: int = 0) -> DivisionCounts:
    """Count correct, false and missed divisions of a result.

    Parameters
    ----------
    assigned : dict
        Reference vertex key -> assigned result label
        (:meth:`ctc.metrics.association.Assignment.lookup`).
    ref_tracks, res_tracks : TrackTable
        Track tables of the reference and of the result.
    tolerance : int
        Frames by which the mother's end and the daughters' starts may differ.

    Returns
    -------
    DivisionCounts
    """
    ref_div, res_div = divisions(ref_tracks), divisions(res_tracks)
    ends = np.array([d.end for d in ref_div], np.int64)
    used: set[int] = set()
    false = []
    for res in res_div:
        for k in np.flatnonzero(np.abs(ends - res.end) <= tolerance).tolist():
            if k not in used and _matches(ref_div[k], res, assigned, tolerance):
                used.add(k)
                break
        else:
            false.append(res)
    missed = tuple(d for k, d in enumerate(ref_div) if k not in used)
    tp = len(used)
    return DivisionCounts(tp, len(res_div) - tp, len(ref_div) - tp, tuple(false), missed)
