"""Submission models: each dataset's model trained on both training sequences.

Participants train on every annotated frame they have; the cross-video models
(``eval/cross_video.py``) learn from one sequence so that the other can test
them. This script trains the submission model of each dataset with two
training sequences, with the recipe of that dataset's cross-video model, and
ships it beside the cross-video one; ``datasets.txt`` then names it as the
dataset's default, so the executables run it. Its scores are on its own
training sequences (segment + track, the whole of ``ctc run``): they show the
model works as stored, and are no estimate of test accuracy. That estimate is
the cross-video row of the same recipe, in ``models/README.md``.

Steps per model (each skipped when done, so an interrupted run continues):

1. ``ctc train DATASET --minutes M --out RUNS/NAME ARGS`` (both sequences);
2. the weights stored in half precision (``save_model(..., half=True)``), the
   form that ships, so everything after this scores the shipped bytes;
3. ``ctc calibrate RUNS/NAME DATASET --tracking``: thresholds, size floor and
   outline refinement again on the half-precision weights, then the shortest
   track kept, choosing it on both training sequences segmented and tracked
   whole. The scores of the chosen minimum are the table's.

Usage::

    python eval/submission_models.py train [--runs /work/runs/submission] [--only NAME ...]
    python eval/submission_models.py ship [--runs /work/runs/submission]   # into models/
    python eval/submission_models.py compare [--json out.json]

``compare`` is the one check on frames neither model trained on: the held-out
gold frames of the sequence the cross-video model learnt from (both models hold
out the same frames of it), each model with its own calibrated post-processing
and TTA. Both models chose their thresholds on those frames among others, so
this is a like-for-like comparison, not a test: it asks whether the second
sequence's data, at the same minutes, helped on the first one's frames.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from universal import replace_readme_section  # noqa: E402

from ctc.segmentation.model import (  # noqa: E402
    CONFIG_FILE,
    WEIGHTS_FILE,
    is_half,
    load_config,
    store_half,
)
from ctc.segmentation.train import CHECKPOINT  # noqa: E402

#: model name -> (dataset, minutes, ``ctc train`` arguments): the recipe of the
#: dataset's shipped cross-video model (``eval/cross_video.py`` SETTINGS, the
#: default recipe for DIC-HeLa).
RECIPES = {
    "DIC-C2DH-HeLa-GT+ST": ("DIC-C2DH-HeLa", 15, ["--truth", "GT+ST"]),
    "Fluo-N2DH-SIM+-GT": ("Fluo-N2DH-SIM+", 15, ["--truth", "GT", "--crop", "192",
                                                 "--gain", "0.1", "1.5", "--markers",
                                                 "--steps", "100000"]),
    "Fluo-N2DH-GOWT1-GT": ("Fluo-N2DH-GOWT1", 15, ["--truth", "GT", "--crop", "192",
                                                   "--gain", "0.1", "1.5",
                                                   "--steps", "100000"]),
}

SECTION = "## Submission models (both training sequences)"


def _ctc(*args: str) -> None:
    print("$ ctc " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "ctc", *args], check=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})


def train(data: Path, runs: Path, names: list[str]) -> None:
    runs.mkdir(parents=True, exist_ok=True)
    for name in names:
        dataset, minutes, args = RECIPES[name]
        model = runs / name
        trained = (model / CONFIG_FILE).exists() and "minutes" in load_config(model).training
        if not trained:
            _ctc("train", str(data / dataset), "--minutes", str(minutes), "--out", str(model),
                 *args, *(["--resume"] if (model / CHECKPOINT).exists() else []))
        store_half(model)  # the form that ships; calibration scores these bytes
        if "track_length_calibration" not in load_config(model).scores:
            _ctc("calibrate", str(model), str(data / dataset), "--tracking")


def training_rows(config) -> list[dict]:
    """The scores of the chosen track minimum, one row per training sequence."""
    chosen = config.tracking.get("min_track_length", 0)
    return next(r for r in config.scores["track_length_calibration"]
                if r["min_track_length"] == chosen)["sequences"]


def table(models: Path, names: list[str]) -> str:
    lines = [SECTION, "", (
        "Written by `python eval/submission_models.py ship` (how they are trained: its "
        "docstring). Each is the default model of its dataset in `datasets.txt`, so the "
        "executables run it. Trained on both training sequences, so the scores below are "
        "on data it learnt from, segmented and tracked whole as `ctc run` does: a check "
        "that the model works as shipped (half-precision weights), not an estimate of "
        "test accuracy. That estimate is the cross-video model of the same recipe in the "
        "first table. FP: false-positive vertices of the TRA graph; tracks: result "
        "tracks."), "",
        "| model | dataset | truth | training | post-processing | sequence | SEG | DET "
        "| TRA | FP | tracks | cross-video estimate (same recipe) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        config = load_config(models / name)
        post = config.postprocess
        parts = [post.get("method", "components")
                 + (f" {post['seed_threshold']}" if post.get("seed_threshold") else "")]
        parts += [f"split {post['split']}"] if post.get("split") else []
        parts += [f"refine {post['refine']}"] if post.get("refine") else []
        parts += [f"objects >= {post['min_size']} px"]
        parts += ["merged cells cut"] if config.tracking.get("split_merged") else []
        parts += ([f"tracks >= {config.tracking['min_track_length']} frames"]
                  if config.tracking.get("min_track_length") else [])
        t = config.training
        estimate = cross_video_estimate(models, name)
        for row in training_rows(config):
            lines.append(
                f"| `{name}` | {RECIPES[name][0]} | {t['truth']} | {t['minutes']:.1f} min "
                f"CPU, {t['steps_done']} steps (best {config.scores.get('step')}), both "
                f"sequences | {' + '.join(parts)} | "
                f"{row['sequence'].split()[-1]} (trained on) | {row['SEG']:.3f} | "
                f"{row['DET']:.3f} | {row['TRA']:.3f} | {row['FP']} | {row['tracks']} | "
                f"{estimate} |")
    return "\n".join(lines) + "\n"


#: submission model -> (the cross-video model of the same recipe, its training sequence)
COUNTERPART = {
    "DIC-C2DH-HeLa-GT+ST": ("DIC-C2DH-HeLa-02", "02"),
    "Fluo-N2DH-SIM+-GT": ("Fluo-N2DH-SIM+-02", "02"),
    "Fluo-N2DH-GOWT1-GT": ("Fluo-N2DH-GOWT1-01", "01"),
}


def cross_video_estimate(models: Path, name: str) -> str:
    """'`MODEL` on SEQ: SEG / DET / TRA' of the shipped cross-video model of the same
    recipe, as its config.json records it ('-' where it has no cross-video score)."""
    other = COUNTERPART[name][0]
    row = load_config(models / other).scores.get("cross_video") if (
        models / other / CONFIG_FILE).exists() else None
    if not row:
        return "-"
    return (f"`{other}` on {row['test']}: {row['SEG']:.3f} / {row['DET']:.3f} / "
            f"{row['TRA']:.3f}")


def compare(data: Path, models: Path, names: list[str]) -> list[dict]:
    from ctc.segmentation.heldout import evaluate_frames, load_validation, validation_frames
    from ctc.segmentation.model import load_model

    rows = []
    for name in names:
        other, seq = COUNTERPART[name]
        dataset = data / RECIPES[name][0]
        for model in (name, other):
            config, net = load_model(models / model)
            config = config.for_dataset(dataset.name)
            held = validation_frames(dataset, seq, config.training.get("val_frames", 3))
            frames = load_validation(dataset, seq, held, config.normalization)
            scores = evaluate_frames(net, frames, config, next(net.parameters()).device)
            rows.append({"model": model, "dataset": dataset.name, "sequence": seq,
                         "frames": held, **scores})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def ship(runs: Path, models: Path, names: list[str]) -> None:
    for name in names:
        source, target = runs / name, models / name
        if not is_half(source):
            raise SystemExit(f"{source}: not finished (run the train step first)")
        target.mkdir(parents=True, exist_ok=True)
        for file in (CONFIG_FILE, WEIGHTS_FILE):
            shutil.copy2(source / file, target / file)
        print(f"shipped {target} ({(target / WEIGHTS_FILE).stat().st_size / 2**20:.1f} MiB)")
    shipped = [n for n in RECIPES if (models / n / WEIGHTS_FILE).exists()]
    replace_readme_section(models / "README.md", SECTION, table(models, shipped))
    print(json.dumps({n: training_rows(load_config(models / n)) for n in names}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("train", "ship", "compare"))
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/submission"))
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--only", nargs="+", choices=sorted(RECIPES), help="these models only")
    parser.add_argument("--json", type=Path, help="compare: write the rows to this file")
    args = parser.parse_args()
    names = args.only or list(RECIPES)
    if args.step == "train":
        train(args.data, args.runs, names)
    elif args.step == "ship":
        ship(args.runs, args.models, names)
    else:
        rows = compare(args.data, args.models, names)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
