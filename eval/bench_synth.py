"""Speed of the simulator: a 50-frame 512x512 sequence written as a CTC dataset.

Times ``synth_dataset`` (simulation, rendering, writing raw frames, SEG, TRA
and man_track.txt) of one sequence with the default settings, a few seeds, and
reports tracks and divisions so that the figures describe the data as well.

Usage::

    python eval/bench_synth.py [--repeats 3] [--frames 50] [--size 512]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctc.synth import SynthConfig, synth_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    synth_dataset(Path(tempfile.mkdtemp()) / "warm", SynthConfig(shape=(64, 64), frames=2),
                  ("01",))  # imports and first-call costs out of the timing
    times = []
    for seed in range(args.repeats):
        config = SynthConfig(shape=(args.size, args.size), frames=args.frames, seed=seed)
        out = Path(tempfile.mkdtemp()) / "Fluo-N2DH-SYNTH"
        start = time.perf_counter()
        table = synth_dataset(out, config, ("01",))["01"]
        times.append(time.perf_counter() - start)
        divisions = len({t.parent for t in table if t.parent})
        entered = sum(1 for t in table if t.parent == 0 and t.begin > 0)
        print(f"seed {seed}: {times[-1]:.2f} s, {len(table)} tracks, {divisions} divisions, "
              f"{entered} entries/re-entries")
    median = sorted(times)[len(times) // 2]
    print(f"{args.frames} frames {args.size}x{args.size}: median {median:.2f} s "
          f"({1000 * median / args.frames:.0f} ms per frame)")


if __name__ == "__main__":
    main()
