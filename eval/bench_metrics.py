"""Benchmark: whole-process `ctc evaluate` vs py-ctcmetrics on one long sequence.

The benchmark sequence is built from Fluo-N2DH-SIM+ 02 (150 frames, 3,371
GT objects): a two-tile mosaic of each frame beside its mirror image, with
the mirrored labels offset, gives 150 frames of 773 x 1478 pixels and 6,742
GT objects (GT TRA, GT SEG and man_track.txt alike). The result is the GT
tracking annotation with every kind of error of :mod:`ctc.perturb` and
labels permuted below 60,000. Then SEG + DET + TRA + LNK are timed, in fresh
processes, for

- ``ctc evaluate`` (after one warm-up run that fills the numba cache), and
- py-ctcmetrics' ``ctc_evaluate`` with one thread (``-n 1``),

and prints the median wall time and peak resident memory of each, their
ratios, and both sets of scores (which must agree).

``--measures all`` times every measure instead: SEG, DET, TRA, LNK, the
biological measures (CT, TF, BC(0..3), CCA, BIO, OP_CLB) and the tracking
measures (CHOTA, HOTA, MOTA, IDF1, MT/ML, FAF), in both tools.

``--gt-dir NN_GT`` benchmarks another ground-truth folder instead of the
mosaic (e.g. a dense simulated sequence of PhC-C2DL-PSC's size, made with
``ctc synth OUT --sequences 01 --size 576 720 --frames 300 --cells 140
--radius 5 8 --cycle 150 400 --entries 0.3 --speed 1.0``); ``--skip-py``
leaves py-ctcmetrics out (it takes many minutes there).

Usage::

    python eval/bench_metrics.py [--data ../shared/data/ctc] [--repeats 3]
    python eval/bench_metrics.py --measures all
    python eval/bench_metrics.py --gt-dir OUT/01_GT --measures all --skip-py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

from ctc.io import find_frames, read_mask  # noqa: E402
from ctc.labels import present_labels  # noqa: E402
from ctc.lineage import read_tracks  # noqa: E402
from ctc.perturb import PERTURBATIONS, LabeledSequence, perturbed  # noqa: E402
from ctc.validation import validate_result  # noqa: E402

RUSAGE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
          "dt = time.perf_counter() - t; "
          "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode); "
          "print(p.stdout); print(p.stderr, file=sys.stderr)")


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run `cmd` in a fresh process (environment `env`): (seconds, peak RSS in MiB, stdout)."""
    out = subprocess.run([sys.executable, "-c", RUSAGE, *cmd], capture_output=True,
                         text=True, env=env, check=True)
    first, _, rest = out.stdout.partition("\n")
    seconds, rss_kib, code = first.split()
    if int(code) != 0:
        raise RuntimeError(f"{cmd} failed:\n{out.stderr}")
    return float(seconds), int(rss_kib) / 1024, rest


def mosaic_gt(source: Path, target: Path) -> None:
    """Write a GT folder whose frames are each source frame beside its mirror image."""
    table = read_tracks(source / "TRA" / "man_track.txt")
    offset = 1 << int(np.ceil(np.log2(max(table.labels) + 1)))
    rows = table.to_array()
    mirrored = rows.copy()
    mirrored[:, 0] += offset
    mirrored[:, 3] = np.where(rows[:, 3] > 0, rows[:, 3] + offset, 0)
    for sub, prefix in (("TRA", "man_track"), ("SEG", "man_seg")):
        (target / sub).mkdir(parents=True)
        for path in find_frames(source / sub, prefix).paths.values():
            mask = read_mask(path)
            twin = np.fliplr(mask).astype(np.uint16)
            twin[twin > 0] += offset
            tifffile.imwrite(target / sub / path.name, np.concatenate([mask, twin], axis=1),
                             compression="zlib")
    np.savetxt(target / "TRA" / "man_track.txt", np.concatenate([rows, mirrored]), fmt="%d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measures", choices=("core", "all"), default="core",
                        help="core: SEG, DET, TRA, LNK; all: every measure of both tools")
    parser.add_argument("--gt-dir", type=Path, help="benchmark this NN_GT instead of the mosaic")
    parser.add_argument("--skip-py", action="store_true", help="time ctc evaluate only")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ctc-bench-"))
    if args.gt_dir is not None:
        gt, res = args.gt_dir, tmp / "01_RES"
        print(f"GT {gt}; building a perturbed result in {res} ...", flush=True)
    else:
        gt, res = tmp / "02_GT", tmp / "02_RES"
        print(f"building the mosaic GT in {gt} and a perturbed result in {res} ...",
              flush=True)
        mosaic_gt(args.data / "Fluo-N2DH-SIM+" / "02_GT", gt)
    source = LabeledSequence.from_folder(gt / "TRA", "man_track", "man_track.txt")
    perturbed(source, list(PERTURBATIONS), seed=args.seed, permute_high=59999).write(res)
    report = validate_result(res)
    assert report.valid, report.problems[:5]
    n_frames = len(find_frames(res, "mask"))
    n_objects = sum(len(present_labels(read_mask(p)))
                    for p in find_frames(gt / "TRA", "man_track").paths.values())
    print(f"sequence: {n_frames} frames, {n_objects} GT objects; RES valid")

    core = args.measures == "core"
    ours_cmd = [sys.executable, "-m", "ctc", "evaluate", "--gt", str(gt), "--res", str(res),
                "--metrics", "SEG,DET,TRA,LNK" if core else "all", "--json"]
    theirs_flags = ["--seg", "--det", "--tra", "--lnk"] + ([] if core else [
        "--ct", "--tf", "--bc", "3", "--cca", "--mota", "--hota", "--idf1", "--chota",
        "--mtml", "--faf"])
    theirs_cmd = [sys.executable, "-c",
                  "from ctc_metrics.scripts.evaluate import main; main()",
                  "--gt", str(gt), "--res", str(res), *theirs_flags, "-n", "1"]
    measure(ours_cmd)  # warm-up: numba compiles into its on-disk cache once
    tools = [("ctc evaluate", ours_cmd)] + ([] if args.skip_py else
                                            [("py-ctcmetrics", theirs_cmd)])
    runs: dict[str, list] = {name: [] for name, _ in tools}
    outputs = {}
    for i in range(args.repeats):
        for name, cmd in tools:
            seconds, rss, stdout = measure(cmd)
            runs[name].append((seconds, rss))
            outputs[name] = stdout
            print(f"  run {i + 1} {name:14s} {seconds:7.2f} s  {rss:7.1f} MiB", flush=True)

    ours = json.loads(outputs["ctc evaluate"].strip().splitlines()[-1])
    print("\nscores (ctc evaluate):", {k: v for k, v in ours.items()
                                       if k not in ("NS", "FN", "FP", "ED", "EA", "EC")})
    print("counts (ctc evaluate):", {k: ours[k] for k in ("NS", "FN", "FP", "ED", "EA", "EC")})
    t_ours = statistics.median(s for s, _ in runs["ctc evaluate"])
    m_ours = max(m for _, m in runs["ctc evaluate"])
    if args.skip_py:
        print(f"\nwhole-process time (median of {args.repeats}): ctc evaluate {t_ours:.2f} s; "
              f"peak memory {m_ours:.0f} MiB")
        print(f"measured at {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores")
        return
    theirs_lines = [line for line in outputs["py-ctcmetrics"].splitlines()
                    if ":" in line]
    print("py-ctcmetrics printed:\n  " + "\n  ".join(theirs_lines[-60:])[:4000])

    t_theirs = statistics.median(s for s, _ in runs["py-ctcmetrics"])
    m_theirs = max(m for _, m in runs["py-ctcmetrics"])
    print(f"\nwhole-process time (median of {args.repeats}): ctc evaluate {t_ours:.2f} s, "
          f"py-ctcmetrics {t_theirs:.2f} s -> {t_theirs / t_ours:.1f}x faster")
    print(f"peak memory (max RSS): ctc evaluate {m_ours:.0f} MiB, py-ctcmetrics "
          f"{m_theirs:.0f} MiB -> ratio ours/theirs {m_ours / m_theirs:.2f}")
    print(f"measured at {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
