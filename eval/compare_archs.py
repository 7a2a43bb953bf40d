"""Side-by-side table of U-Net, GRUU-Net and RSHN from the cross-video runs.

Reads ``cross_video.json`` written by ``eval/cross_video.py --arch ...`` and
prints, per dataset and direction, SEG, DET, TRA, training minutes and steps,
parameters and inference seconds per frame (segment + track + write). With
``--time-frames N`` the inference time is measured again on the first N frames
of the test sequence, one model after the other, so that all architectures
are timed on an otherwise idle machine (the cross-video runs may have shared
the CPU with other work).

Usage::

    python eval/compare_archs.py [--runs /work/runs/cross_video] [--time-frames 5]
                                 [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cross_video import post_label  # noqa: E402  (eval/ is this script's folder)

from ctc.pipeline import run_sequence  # noqa: E402
from ctc.segmentation.model import build_net, load_config  # noqa: E402
from ctc.segmentation.nets import count_parameters  # noqa: E402

ARCH_ORDER = {"unet": 0, "gruunet": 1, "rshn": 2}


def model_dir(runs: Path, row: dict) -> Path:
    arch = row.get("arch", "unet")
    return runs / (f"{row['dataset']}-{row['train']}" + ("" if arch == "unet" else f"-{arch}"))


def time_inference(data: Path, row: dict, model: Path, frames: int, device: str) -> float:
    """Seconds per frame of segment + track + write on the first `frames` test frames."""
    raw = data / row["dataset"] / row["test"]
    files = sorted(raw.glob("t*.tif"))[:frames]
    with tempfile.TemporaryDirectory() as tmp:
        seq = Path(tmp) / "D" / row["test"]
        seq.mkdir(parents=True)
        for f in files:
            (seq / f.name).symlink_to(f)
        run_sequence(Path(tmp) / "D", row["test"], model, device=device)  # warm-up
        start = time.perf_counter()
        run_sequence(Path(tmp) / "D", row["test"], model, device=device, overwrite=True)
        return (time.perf_counter() - start) / len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/cross_video"))
    parser.add_argument("--datasets", default="Fluo-N2DH-SIM+,DIC-C2DH-HeLa")
    parser.add_argument("--time-frames", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = json.loads((args.runs / "cross_video.json").read_text())
    wanted = args.datasets.split(",")
    rows = sorted((r for r in rows if r["dataset"] in wanted),
                  key=lambda r: (r["dataset"], r["train"], ARCH_ORDER[r.get("arch", "unet")]))
    table = []
    for r in rows:
        folder = model_dir(args.runs, r)
        params = r.get("parameters") or count_parameters(build_net(load_config(folder)))
        per_frame = (time_inference(args.data, r, folder, args.time_frames, args.device)
                     if args.time_frames else
                     r.get("seconds_per_frame") or r["inference_seconds"] / len(
                         list((args.data / r["dataset"] / r["test"]).glob("t*.tif"))))
        table.append([r["dataset"], f"{r['train']}->{r['test']}", r.get("arch", "unet"),
                      f"{r['SEG']:.3f}", f"{r['DET']:.3f}", f"{r['TRA']:.3f}",
                      f"{r['training_minutes']:.1f}", str(r["steps"]), f"{params:,}",
                      f"{per_frame:.2f}", post_label(r)])
        print(" ".join(table[-1]), file=sys.stderr, flush=True)
    head = ["dataset", "train->test", "network", "SEG", "DET", "TRA", "train min", "steps",
            "parameters", "s/frame", "post-processing"]
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *table, strict=True)]
        for row in [head, *table]:
            print("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
