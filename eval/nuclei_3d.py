"""A nuclei model for the 3D datasets: simulated 3D nuclei and the real 2D nuclei, together.

No 3D gold truth is available offline, so the model learns from two simulated
3D nuclei datasets (``ctc.synth``) and from the 2D nuclei datasets of
``../shared/data/ctc`` (Fluo-N2DH-GOWT1 and Fluo-N2DH-SIM+, both sequences),
in the universal scheme (one minibatch of each dataset per step, one forward).
It sees 2D slices only (no neighbouring slices as input): the real 3D nuclei
datasets have z steps of 5 to 11 x-pixels, so neighbours differ too much
between them for one slice context to fit all; the 3D objects are built from
the stacked slice probabilities (``ctc.segmentation.segment``).

The two simulated datasets bracket the real geometry:

``Fluo-N3DH-SYNTH``
    Fluo-N3DH-SIM+-like: 30 slices 1.6 x-pixels apart, nuclei of radius 10-16 px.
``Fluo-N3DH-SYNTHZ5``
    Fluo-N3DH-CHO-like: 12 slices 5 x-pixels apart, nuclei of radius 14-24 px.

Training starts from ``models/universal-2d`` (``--init``), uses sequence 01 of
each simulated dataset and is scored, with ``run_sequence`` (segment + track)
and the toolkit's measures, on their sequence 02 (other seeds, never seen).
The rows go to ``nuclei3d.json`` in the runs folder; ``--ship NAME`` copies
the model into ``models/NAME`` with its rows and writes the "3D nuclei model"
section of ``models/README.md``.

Usage::

    python eval/nuclei_3d.py [--minutes 12] [--runs /work/runs/nuclei3d]
    python eval/nuclei_3d.py --half      # rescore the finished model as shipped
    python eval/nuclei_3d.py --ship nuclei-3d
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cross_video import post_label, score_run  # noqa: E402  (eval/ is this script's folder)
from universal import copy_model, replace_readme_section  # noqa: E402

from ctc.segmentation.data import Augment  # noqa: E402
from ctc.segmentation.model import load_config, store_half  # noqa: E402
from ctc.segmentation.postprocess import THRESHOLD_KEYS  # noqa: E402
from ctc.segmentation.train import CHECKPOINT, TrainConfig, train  # noqa: E402
from ctc.synth import SynthConfig, synth_dataset  # noqa: E402

#: The simulated datasets (name -> settings), see the module docstring.
SIMULATED = {
    "Fluo-N3DH-SYNTH": SynthConfig(shape=(256, 256), frames=20, cells=14, radius=(10.0, 16.0),
                                   entries=0.1, cycle=(15, 40), depth=30, z_step=1.6,
                                   blur_z=2.5, seed=10),
    "Fluo-N3DH-SYNTHZ5": SynthConfig(shape=(256, 256), frames=20, cells=8, radius=(14.0, 24.0),
                                     entries=0.1, cycle=(15, 40), depth=12, z_step=5.0,
                                     blur_z=4.0, seed=20),
}
NUCLEI_2D = ("Fluo-N2DH-GOWT1", "Fluo-N2DH-SIM+")
README_SECTION = "## 3D nuclei model"


def training_data(data: Path, runs: Path) -> list[tuple[Path, list[str]]]:
    """Simulate the 3D datasets (once) and list what the model learns from."""
    out = []
    for name, config in SIMULATED.items():
        folder = runs / "data" / name
        if not (folder / "synth.json").exists():
            synth_dataset(folder, config, ("01", "02"), overwrite=True)
        out.append((folder, ["01"]))
    return out + [(data / name, ["01", "02"]) for name in NUCLEI_2D]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "ctc")
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/nuclei3d"))
    parser.add_argument("--init", type=Path, default=REPO / "models" / "universal-2d")
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--half", action="store_true",
                        help="store the finished model's weights in half precision (as models/ "
                             "ships them) before testing, so the rows score the shipped bytes")
    parser.add_argument("--ship", metavar="NAME", help="copy the finished model to models/NAME")
    args = parser.parse_args()
    args.runs.mkdir(parents=True, exist_ok=True)
    results = args.runs / "nuclei3d.json"
    model_dir = args.runs / "nuclei-3d"
    if args.ship:
        ship(model_dir, json.loads(results.read_text()), REPO / "models" / args.ship)
        return
    data = training_data(args.data, args.runs)
    finished = (model_dir / "config.json").exists() and "minutes" in load_config(
        model_dir).training
    if not finished:
        config = load_config(args.init)
        config.scores, config.training, config.context = {}, {}, 0
        config.dataset_postprocess = {}
        settings = TrainConfig(steps=args.steps, batch=4, crop=192, lr=args.lr, restart=400,
                               val_every=50, val_frames=2, truth="GT+ST", device=args.device,
                               max_minutes=args.minutes, augment=Augment(gain=(0.3, 1.5)))
        print("== training nuclei-3d on " + ", ".join(
            f"{d.name} {'+'.join(s)}" for d, s in data) + f" ({args.minutes} min)", flush=True)
        train(config, data, model_dir, settings, resume=(model_dir / CHECKPOINT).exists(),
              init=args.init, progress=False)
    if args.half and store_half(model_dir):
        print(f"{model_dir}: weights stored in half precision", flush=True)
    rows = []
    for name in SIMULATED:
        dataset = args.runs / "data" / name
        config = load_config(model_dir).for_dataset(name)
        measured = score_run(dataset, "02", model_dir, args.runs / f"nuclei-3d-{name}-02_RES",
                             args.device)
        synth = SIMULATED[name]
        row = {"model": "nuclei-3d", "dataset": name, "test": "02",
               "volume": f"{synth.depth}x{synth.shape[0]}x{synth.shape[1]}, z step "
                         f"{synth.z_step}",
               **measured, "training_minutes": config.training.get("minutes"),
               "steps": config.training.get("steps_done"),
               "postprocess": {k: config.postprocess[k] for k in THRESHOLD_KEYS
                               if k in config.postprocess}}
        print(json.dumps(row), flush=True)
        rows.append(row)
    results.write_text(json.dumps(rows, indent=1))


def ship(source: Path, rows: list[dict], target: Path) -> None:
    """Copy the model into `target` with its rows and write its models/README.md section."""
    copy_model(source, target, rows)
    lines = [f"{README_SECTION}\n\n"
             f"`{target.name}`, written by `python eval/nuclei_3d.py --ship {target.name}` "
             "(how it is trained: the script's docstring): the U-Net of `universal-2d` trained "
             "further on 2D slices of two simulated 3D nuclei datasets and on both sequences of "
             "Fluo-N2DH-GOWT1 and Fluo-N2DH-SIM+, one minibatch of each per step. It is the "
             "default of the 3D nuclei datasets (`datasets.txt`), none of which it saw: no 3D "
             "gold truth is available offline, so the figures below are on simulated "
             "sequences it did not train on, not on real data.\n\n"
             "| tested on | volume | SEG | DET | TRA | FP | tracks | CT | TF | training | "
             "post-processing |\n|---|---|---|---|---|---|---|---|---|---|---|\n"]
    for r in rows:
        lines.append(f"| {r['dataset']} {r['test']} | {r['volume']} | {r['SEG']:.3f} | "
                     f"{r['DET']:.3f} | {r['TRA']:.3f} | {r['FP']} | {r['tracks']} / "
                     f"{r['gt_tracks']} | {r['CT']:.3f} | {r['TF']:.3f} | "
                     f"{r['training_minutes']:.1f} min CPU, {r['steps']} steps | "
                     f"{post_label(r)} |\n")
    replace_readme_section(target.parent / "README.md", README_SECTION, "".join(lines))


if __name__ == "__main__":
    main()
