"""Benchmark: start-up of the ``ctc`` command and whole-process evaluate / track times.

Every command runs in a fresh process (``python -m ctc ...``, the code of this
checkout), and the median wall time and peak resident memory of `--repeats`
runs are printed (one warm-up run first, which fills the numba cache):

- ``ctc --version``, ``ctc --help``, ``ctc validate --help``, ``ctc evaluate --help``:
  pure start-up;
- ``ctc validate`` of a one-frame result: start-up plus a trivial job;
- ``ctc evaluate`` (SEG, DET, TRA, LNK) and ``ctc track`` on a 92-frame
  Fluo-N2DH-GOWT1 01 sequence, whole process, beside the same call made from
  Python in an already running process (the difference is what the command
  line adds).

The evaluated result is the GT tracking annotation itself (``man_trackTTT.tif``
+ ``man_track.txt`` renamed); the tracking input is the same masks with the
labels of each frame shuffled.

Usage::

    python eval/bench_startup.py [--data ../shared/data/ctc] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from bench_metrics import measure  # noqa: E402  (eval/ is this script's folder)


def build_inputs(data: Path, work: Path) -> tuple[Path, Path, Path]:
    """GOWT1 01 result from its GT TRA, shuffled masks for tracking, a one-frame result."""
    tra = data / "Fluo-N2DH-GOWT1" / "01_GT" / "TRA"
    dataset = work / "Fluo-N2DH-GOWT1"
    res = dataset / "01_RES"
    res.mkdir(parents=True)
    shutil.copytree(data / "Fluo-N2DH-GOWT1" / "01_GT", dataset / "01_GT")
    masks = work / "masks"
    masks.mkdir()
    rng = np.random.default_rng(0)
    for path in sorted(tra.glob("man_track*.tif")):
        frame = path.stem[len("man_track"):]
        shutil.copy(path, res / f"mask{frame}.tif")
        mask = tifffile.imread(path)
        lut = np.zeros(int(mask.max()) + 1, np.uint16)
        lut[1:] = rng.permutation(np.arange(1, len(lut))) + 100
        tifffile.imwrite(masks / f"mask{frame}.tif", lut[mask], photometric="minisblack")
    shutil.copy(tra / "man_track.txt", res / "res_track.txt")
    one = work / "one" / "01_RES"
    one.mkdir(parents=True)
    mask = np.zeros((64, 64), np.uint16)
    mask[10:20, 10:20] = 1
    tifffile.imwrite(one / "mask000.tif", mask, photometric="minisblack")
    (one / "res_track.txt").write_text("1 0 0 0\n")
    return dataset, masks, one


def in_process(dataset: Path, masks: Path, out: Path) -> dict[str, float]:
    """Seconds of the same evaluate and track calls from an already running Python."""
    from ctc.metrics import evaluate
    from ctc.tracking import TrackingConfig, track_folder

    evaluate(dataset / "01_GT", dataset / "01_RES")  # warm the kernels
    t = time.perf_counter()
    evaluate(dataset / "01_GT", dataset / "01_RES")
    t_eval = time.perf_counter() - t
    track_folder(masks, out / "warm", TrackingConfig())
    t = time.perf_counter()
    track_folder(masks, out / "timed", TrackingConfig())
    return {"evaluate": t_eval, "track": time.perf_counter() - t}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ctc")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (args.data / "Fluo-N2DH-GOWT1" / "01_GT").is_dir():
        print(f"Fluo-N2DH-GOWT1 01_GT not found under {args.data} (--data)", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ctc = [sys.executable, "-m", "ctc"]
    with tempfile.TemporaryDirectory(prefix="ctc-bench-startup-") as tmp:
        work = Path(tmp)
        dataset, masks, one = build_inputs(args.data, work)
        commands = {
            "ctc --version": ctc + ["--version"],
            "ctc --help": ctc + ["--help"],
            "ctc validate --help": ctc + ["validate", "--help"],
            "ctc evaluate --help": ctc + ["evaluate", "--help"],
            "ctc validate (1 frame)": ctc + ["validate", str(one)],
            "ctc evaluate GOWT1 01 (92 frames)": ctc + ["evaluate", str(dataset), "01"],
            "ctc track GOWT1 01 (92 frames)": ctc + ["track", str(masks), "OUT",
                                                     "--overwrite"],
        }
        rows = {}
        for name, cmd in commands.items():
            cmd = [str(work / "track_out") if c == "OUT" else c for c in cmd]
            measure(cmd, env)  # warm-up: numba cache, file cache
            runs = [measure(cmd, env)[:2] for _ in range(args.repeats)]
            rows[name] = {"seconds": statistics.median(r[0] for r in runs),
                          "peak_mib": statistics.median(r[1] for r in runs)}
        python = in_process(dataset, masks, work)
    rows["ctc evaluate GOWT1 01 (92 frames)"]["in_process_seconds"] = python["evaluate"]
    rows["ctc track GOWT1 01 (92 frames)"]["in_process_seconds"] = python["track"]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"median of {args.repeats} fresh processes (after one warm-up), code in {REPO}")
    print(f"{'command':36s} {'seconds':>8s} {'peak MiB':>9s} {'from Python':>12s}")
    for name, row in rows.items():
        extra = f"{row['in_process_seconds']:12.2f}" if "in_process_seconds" in row else ""
        print(f"{name:36s} {row['seconds']:8.2f} {row['peak_mib']:9.0f} {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
