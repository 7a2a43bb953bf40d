"""Does normalising the test sequence to the training sequence's background help?

The toolkit scales every sequence by its own 1st and 99.8th percentiles. Where
the test sequence's background is noisier or its cells sparser than the
training sequence's, its background lands higher after that scaling
(Fluo-N2DH-SIM+ 02: median 0.111 against 01's 0.069). This experiment scales
the test sequence instead so that its median (the background, where cells are
a minority of the pixels) lands where the training sequence's median does, and
its 99.8th percentile at 1, then runs the model as shipped (segment + track,
its own calibrated post-processing) and scores it. Inference only: the model
and its training are unchanged, and nothing is chosen on the test sequence.

Usage::

    python eval/matched_normalization.py MODEL_DIR --test 01 [--data CTC_DATA]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "eval"))

from cross_video import score_run  # noqa: E402

from ctc.io.naming import RAW_PREFIX, find_frames  # noqa: E402
from ctc.io.tiff import read_frame  # noqa: E402
from ctc.segmentation.data import Normalization, sequence_normalization, spread  # noqa: E402
from ctc.segmentation.model import load_config  # noqa: E402


def intensity_sample(raw_dir: Path, frames: int = 16) -> np.ndarray:
    """Every 7th pixel of up to `frames` evenly spaced frames (as the normalisation reads)."""
    files = find_frames(raw_dir, RAW_PREFIX)
    return np.concatenate([read_frame(files.paths[t]).ravel()[::7]
                           for t in spread(files.frames, frames)])


def matched_normalization(train_dir: Path, test_dir: Path) -> tuple[Normalization, float]:
    """The linear scaling of `test_dir` that puts its median where the training
    sequence's median lands after its own scaling, and its 99.8th percentile at 1;
    returns it with that reference level."""
    reference = float(np.median(sequence_normalization(train_dir)(intensity_sample(train_dir))))
    values = intensity_sample(test_dir)
    high, median = float(np.percentile(values, 99.8)), float(np.median(values))
    low = (median - reference * high) / (1 - reference)
    return Normalization(low, high), reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a model trained on one sequence")
    parser.add_argument("--test", required=True, help="the other sequence")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--out", type=Path, default=Path("/tmp/matched_normalization"))
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    config = load_config(args.model)
    (folder, sequences), = config.training["data"]
    dataset = args.data / Path(folder).name
    norm, reference = matched_normalization(dataset / sequences[0], dataset / args.test)
    own = sequence_normalization(dataset / args.test)
    args.out.mkdir(parents=True, exist_ok=True)
    with mock.patch("ctc.pipeline.sequence_normalization", lambda *_a, **_k: norm):
        measured = score_run(dataset, args.test, args.model,
                             args.out / f"{args.model.name}-on-{args.test}_RES", args.device)
    print(json.dumps({"model": str(args.model), "test": args.test,
                      "reference_median": reference, "own": [own.low, own.high],
                      "matched": [norm.low, norm.high],
                      **{k: measured[k] for k in ("SEG", "DET", "TRA", "FP", "tracks")}}))


if __name__ == "__main__":
    main()
