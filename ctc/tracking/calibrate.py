"""The shortest track worth keeping, chosen on segmented training sequences.

A network trained for minutes leaves debris: objects seen in one or two frames
that become tracks of their own. DET hardly notices (a false positive weighs 1
against a miss's 10), but the result shows hundreds of false tracks. Removing
the tracks shorter than ``min_track_length`` frames that belong to no lineage
cuts them; too long a minimum also removes real cells that the segmentation
lost for a while. The minimum is chosen where the gold tracking markers say
what is real: each candidate re-tracks the masks of the training sequences and
is scored by SEG, DET and TRA; the longest whose SEG, DET and TRA all stay
within a tolerance of keeping every track wins. SEG belongs in the test: on
Fluo-C2DL-MSC 02 a 5-frame minimum chosen by DET and TRA alone cut SEG from
0.601 to 0.446 (whole cells whose tracks break into short pieces) while DET
moved by 0.007. The test data is never looked at.

The smallest object kept is chosen the same way, before the track length: a
network's size floor from the gold object sizes keeps fragments far smaller
than any cell, but many false objects are only somewhat smaller than the
cells (DIC-C2DH-HeLa: half of them below 2,300 px, where 99% of the matched
cells are larger than 2,900 px). Each candidate floor removes the smaller
objects from the masks, which are tracked and scored again; the largest floor
that costs no SEG, DET or TRA on the training sequences is kept.

Last, the masks are tracked with and without cutting objects that merge two
cells of the previous frame (:mod:`ctc.tracking.merges`); the cut is kept
where it raises TRA on the training sequences and costs nothing else.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

from ctc.errors import CTCWarning
from ctc.io.naming import find_numbered_frames
from ctc.io.tiff import read_mask, write_mask
from ctc.labels import drop_small
from ctc.tracking.config import TrackingConfig
from ctc.tracking.io import track_folder

#: Candidate minimum track lengths (frames), 0 (keep every track) first.
TRACK_LENGTHS = (0, 2, 3, 4, 5, 6, 8)

#: SEG, DET or TRA lost to a longer minimum beyond this is too much.
TRACK_TOLERANCE = 0.002


def score_track_lengths(sequences: list[tuple[str | Path, str | Path]],
                        config: TrackingConfig | None = None,
                        lengths: tuple[int, ...] = TRACK_LENGTHS) -> list[dict]:
    """SEG, DET, TRA, false-positive vertices and track counts of each minimum track length.

    Parameters
    ----------
    sequences : list of (masks folder, ``NN_GT`` folder)
        Untracked instance masks of whole sequences (``ctc segment``) and
        their gold truth (``TRA`` is needed; SEG is scored where ``SEG`` exists).
    config : TrackingConfig
        The tracking to calibrate; only ``min_track_length`` varies.

    Returns
    -------
    list of dict
        One entry per length: ``min_track_length`` and per sequence (in order)
        ``SEG`` (None without gold segmentation), ``DET``, ``TRA``, ``FP`` and
        ``tracks``.
    """
    config = config or TrackingConfig()
    with tempfile.TemporaryDirectory(prefix="ctc-track-length-") as tmp:
        return [{"min_track_length": length,
                 "sequences": _score(sequences, replace(config, min_track_length=length),
                                     Path(tmp) / str(length))}
                for length in lengths]


def score_size_floors(sequences: list[tuple[str | Path, str | Path]], floors: list[int],
                      config: TrackingConfig | None = None) -> list[dict]:
    """SEG, DET, TRA, false positives and track counts with the objects smaller than
    each floor removed from the masks (as :func:`score_track_lengths`, one entry per
    floor: ``min_size`` and ``sequences``); the tracking of `config` is unchanged."""
    config = config or TrackingConfig()
    results = []
    with tempfile.TemporaryDirectory(prefix="ctc-size-floor-") as tmp:
        for floor in floors:
            kept = [(without_small(masks, floor, Path(tmp) / f"{floor}-{i}"), gt)
                    for i, (masks, gt) in enumerate(sequences)]
            results.append({"min_size": int(floor),
                            "sequences": _score(kept, config, Path(tmp) / f"{floor}-res")})
    return results


def score_split_merged(sequences: list[tuple[str | Path, str | Path]],
                       config: TrackingConfig | None = None,
                       flags: tuple[bool, ...] = (False, True)) -> list[dict]:
    """SEG, DET, TRA, false positives and track counts with merged objects kept
    (``split_merged`` False), then cut apart (True), every track kept; one entry per
    setting of `flags`, as :func:`score_track_lengths`."""
    config = replace(config or TrackingConfig(), min_track_length=0)
    with tempfile.TemporaryDirectory(prefix="ctc-split-merged-") as tmp:
        return [{"split_merged": flag,
                 "sequences": _score(sequences, replace(config, split_merged=flag),
                                     Path(tmp) / str(flag))}
                for flag in flags]


def choose_split_merged(results: list[dict], tolerance: float = TRACK_TOLERANCE) -> bool:
    """Whether to cut merged objects, from `results` (:func:`score_split_merged`): when
    it costs no SEG, DET or TRA beyond `tolerance` on any sequence and gains more than
    `tolerance` TRA on the sequences together."""
    if not harmless_largest(results, "split_merged", tolerance):
        return False
    off, on = ([s["TRA"] for s in r["sequences"]] for r in results)
    return sum(on) - sum(off) > tolerance


def without_small(masks: str | Path, floor: int, out: Path) -> Path:
    """A copy of the folder of ``maskTTT.tif`` files `masks` in `out` (created), without
    the objects smaller than `floor` pixels; returns `out`."""
    out.mkdir(parents=True)
    for path in find_numbered_frames(masks, "mask").paths.values():
        write_mask(out / Path(path).name, drop_small(read_mask(path), floor))
    return out


def _score(sequences: list[tuple[str | Path, str | Path]], config: TrackingConfig,
           scratch: Path) -> list[dict]:
    """Track each masks folder with `config` into `scratch` and score it on its gold truth."""
    from ctc.metrics import evaluate  # the metrics load only where scores are needed

    scratch.mkdir(parents=True)
    scores_of = []
    for i, (masks, gt) in enumerate(sequences):
        res = scratch / f"{i}_RES"
        with warnings.catch_warnings():
            # a candidate may empty frames: scored as frames without detections, and the
            # scratch result is never submitted, so the official tools' refusal is moot
            warnings.simplefilter("ignore", CTCWarning)
            tracks = track_folder(masks, res, config, prefix="mask")
            has_seg = (Path(gt) / "SEG").is_dir()
            scores = evaluate(gt, res, "SEG,DET,TRA" if has_seg else "DET,TRA")
        scores_of.append({"SEG": scores.SEG if has_seg else None, "DET": scores.DET,
                          "TRA": scores.TRA, "FP": scores.FP, "tracks": len(tracks)})
    return scores_of


def choose_track_length(results: list[dict], tolerance: float = TRACK_TOLERANCE) -> int:
    """The longest minimum of `results` (:func:`score_track_lengths`) whose SEG (where
    scored), DET and TRA stay within `tolerance` of the shortest candidate's on every
    sequence."""
    return harmless_largest(results, "min_track_length", tolerance)


def choose_size_floor(results: list[dict], tolerance: float = TRACK_TOLERANCE) -> int:
    """The largest floor of `results` (:func:`score_size_floors`) whose SEG, DET and TRA
    stay within `tolerance` of the first (smallest) floor's on every sequence."""
    return harmless_largest(results, "min_size", tolerance)


def harmless_largest(results: list[dict], key: str, tolerance: float = TRACK_TOLERANCE) -> int:
    """The largest `key` among `results` whose SEG (where scored), DET and TRA stay within
    `tolerance` of the first entry's on every sequence (the first always qualifies)."""
    base = results[0]["sequences"]

    def kept(s: dict, b: dict) -> bool:
        return all(s[k] >= b[k] - tolerance for k in ("SEG", "DET", "TRA")
                   if s.get(k) is not None and b.get(k) is not None)
    return max(r[key] for r in results
               if all(kept(s, b) for s, b in zip(r["sequences"], base, strict=True)))
