"""Run every CTC executable CTC-style and check that it writes a valid result.

For each dataset of the registry (``--dims 2`` by default) an ``SW/`` folder
with the repository's executables and models is set up beside a
``DATASET/01`` and ``DATASET/02``: the dataset's own raw frames where
``CTC_DATA`` has them, else stand-in frames (the first ``--frames`` of
PhC-C2DH-U373 02 for 2D, or a small simulated volume for 3D) under the
dataset's name. Then ``./DATASET-NN.sh`` runs from ``SW/``, exactly as the
organisers run it, and its ``NN_RES`` is validated. Stand-in frames only show
that the script runs and writes a valid result; the quality on data a model
has not seen is estimated by the leave-one-dataset-out rows of
``models/README.md``.

Usage::

    python eval/run_executables.py [--dims 2|3|all] [--frames 3] [--work /tmp/ctc-exe]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.datasets import read_registry  # noqa: E402
from ctc.validation import validate_result  # noqa: E402

STAND_IN_2D = ("PhC-C2DH-U373", "02")


def stand_in_volume(t: int, shape=(6, 96, 96)) -> np.ndarray:
    """A small uint8 volume with three bright blurred nuclei drifting along x."""
    z, y, x = np.indices(shape, dtype=float)
    volume = np.full(shape, 20.0)
    for cz, cy, cx in ((3, 30, 25), (3, 65, 40), (2, 40, 70)):
        volume += 150 * ((((z - cz) * 4) ** 2 + (y - cy) ** 2 + (x - cx - 2 * t) ** 2)
                         <= 12 ** 2)
    noise = np.random.default_rng(t).normal(0, 4, shape)
    return (volume + noise).clip(0, 255).astype(np.uint8)


def prepare(root: Path, name: str, dims: int, digits: int, data: Path, frames: int) -> str:
    """Link or write ``root/name/01`` and ``02``; returns where the frames came from."""
    for seq in ("01", "02"):
        target = root / name / seq
        target.mkdir(parents=True)
        own = data / name / seq
        source = own if own.is_dir() else data.joinpath(*STAND_IN_2D)
        if dims == 2 and source.is_dir():
            width = len(next(source.glob("t*.tif")).stem) - 1
            for t in range(frames):  # named with the dataset's own number of digits
                os.symlink((source / f"t{t:0{width}d}.tif").resolve(),
                           target / f"t{t:0{digits}d}.tif")
            origin = "own frames" if own.is_dir() else f"stand-in {'/'.join(STAND_IN_2D)}"
        else:
            for t in range(frames):
                tifffile.imwrite(target / f"t{t:0{digits}d}.tif", stand_in_volume(t))
            origin = "stand-in volume"
    return origin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--dims", default="2", choices=("2", "3", "all"))
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ctc-exe"))
    args = parser.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    sw = args.work / "SW"
    shutil.copytree(REPO / "executables", sw)
    os.symlink(REPO / "models", sw / "models")
    os.symlink(REPO / "ctc", sw / "ctc")
    rows = []
    for name, info in sorted(read_registry().items()):
        if args.dims != "all" and info.dims != int(args.dims):
            continue
        origin = prepare(args.work, name, info.dims, info.digits, args.data, args.frames)
        for seq in ("01", "02"):
            start = time.perf_counter()
            proc = subprocess.run([f"./{name}-{seq}.sh"], cwd=sw, capture_output=True,
                                  text=True)
            seconds = time.perf_counter() - start
            res = args.work / name / f"{seq}_RES"
            valid = proc.returncode == 0 and res.is_dir() and validate_result(
                res, n_frames=args.frames).valid
            rows.append({"dataset": name, "sequence": seq, "model": info.model,
                         "model_saw": info.model_saw, "frames": origin,
                         "exit": proc.returncode, "valid": bool(valid),
                         "seconds": round(seconds, 1)})
            print(json.dumps(rows[-1]), flush=True)
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
    bad = [r for r in rows if not r["valid"]]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} executables wrote a valid result")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
