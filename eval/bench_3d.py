"""Time per 3D frame and peak memory of ``ctc run`` on a simulated 3D sequence.

Simulates a Fluo-N3DH-SIM+-style sequence (``ctc synth --depth``: by default
4 frames of 30x512x512, slices 1.6 x-pixels apart), then runs
``ctc run DATASET 01 --model MODEL`` in a fresh process and reports wall time,
seconds per frame and the peak resident memory, next to the size of one raw
frame (float32) for scale, and the SEG / DET / TRA of the result against the
simulated truth (a model trained on other data: the figures say how the 3D path
carries a 2D model, not how well a 3D model would do).

Usage::

    python eval/bench_3d.py [--model models/universal-2d] [--frames 6]
                            [--depth 30] [--size 512] [--work /tmp/ctc-bench-3d]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "eval"))

from bench_metrics import measure  # noqa: E402

from ctc.metrics import evaluate  # noqa: E402
from ctc.synth import SynthConfig, synth_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "universal-2d")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ctc-bench-3d"))
    args = parser.parse_args()
    if args.work.exists():
        shutil.rmtree(args.work)
    dataset = args.work / "Fluo-N3DH-SYNTH"
    config = SynthConfig(shape=(args.size, args.size), frames=args.frames, cells=40,
                         radius=(10.0, 16.0), depth=args.depth, z_step=1.6, blur_z=2.5)
    synth_dataset(dataset, config, ("01",))
    seconds, peak, _ = measure([sys.executable, "-m", "ctc", "run", str(dataset), "01", "--model",
                                str(args.model)])
    scores = evaluate(dataset / "01_GT", dataset / "01_RES", "SEG,DET,TRA")
    frame_mib = args.depth * args.size * args.size * 4 / 2**20
    row = {"frames": args.frames, "frame": f"{args.depth}x{args.size}x{args.size}",
           "model": args.model.name, "seconds": round(seconds, 1),
           "seconds_per_frame": round(seconds / args.frames, 2),
           "peak_rss_mib": round(peak), "frame_float32_mib": round(frame_mib),
           "SEG": scores.SEG, "DET": scores.DET, "TRA": scores.TRA}
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
