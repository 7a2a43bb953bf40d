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
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

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
    from ctc.metrics import evaluate  # the metrics load only where scores are needed

    config = config or TrackingConfig()
    results = []
    with tempfile.TemporaryDirectory(prefix="ctc-track-length-") as tmp:
        for length in lengths:
            tracking = replace(config, min_track_length=length)
            row = {"min_track_length": length, "sequences": []}
            for i, (masks, gt) in enumerate(sequences):
                res = Path(tmp) / f"{length}-{i}_RES"
                tracks = track_folder(masks, res, tracking, prefix="mask")
                has_seg = (Path(gt) / "SEG").is_dir()
                scores = evaluate(gt, res, "SEG,DET,TRA" if has_seg else "DET,TRA")
                row["sequences"].append({"SEG": scores.SEG if has_seg else None,
                                         "DET": scores.DET, "TRA": scores.TRA,
                                         "FP": scores.FP, "tracks": len(tracks)})
            results.append(row)
    return results


def choose_track_length(results: list[dict], tolerance: float = TRACK_TOLERANCE) -> int:
    """The longest minimum of `results` (:func:`score_track_lengths`) whose SEG (where
    scored), DET and TRA stay within `tolerance` of the shortest candidate's on every
    sequence."""
    base = results[0]["sequences"]

    def kept(s: dict, b: dict) -> bool:
        return all(s[k] >= b[k] - tolerance for k in ("SEG", "DET", "TRA")
                   if s.get(k) is not None and b.get(k) is not None)
    fine = [r["min_track_length"] for r in results
            if all(kept(s, b) for s, b in zip(r["sequences"], base, strict=True))]
    return max(fine)
