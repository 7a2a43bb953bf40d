"""Universal 2D model: one U-Net trained on every 2D dataset at once, and its protocols.

Every optimisation step takes one minibatch from each dataset, each weighing
the same, in one forward pass (``ctc.segmentation.train.joint_step``; with
``--separate-forward`` one pass per dataset, ``accumulated_step``), from gold
and silver truth where silver exists (allGT+allST). Protocols:

``cross``
    Cross-video for the universal scheme: train on sequence 01 of every
    dataset with two sequences and on frames 0-56 of PhC-C2DH-U373 02 (the
    only annotated U373 sequence here); score on sequence 02 and on U373
    frames 57-114 (renumbered from 0, tracks cut at frame 57).
``lodo``
    Leave one dataset out (``--leave-out NAME``): train on all sequences of
    the other datasets, score on every sequence of NAME. The estimate for a
    dataset no model has seen.
``finetune``
    Start from the ``cross`` model and train on the training split of one
    dataset (``--dataset NAME``) alone; score on its test split. The
    per-dataset model against which the universal one is measured.
``all``
    Train on everything (the submission model of the datasets with no model of
    their own). Nothing is left to test it on: it is stored in half precision,
    its shortest track chosen on every training sequence segmented whole with
    those weights, and its rows are the scores of that
    choice on its own training sequences, a check that the shipped bytes work and
    no estimate of accuracy (that estimate is the ``cross`` row of the dataset).

Each run trains for ``--minutes`` of CPU time (or until ``--steps``), chooses
its checkpoint and post-processing on held-out gold frames of its training
sequences only, then ``run_sequence`` (segment + track) writes each test
sequence's result, scored with the toolkit's measures. Rows (SEG, DET, TRA,
false-positive vertices, result tracks against GT tracks, CT, TF, training
minutes and steps) are added to ``universal.json`` in the runs folder; an
interrupted training continues where it stopped.

Usage::

    python eval/universal.py --protocol cross [--minutes 30] [--runs /work/runs/universal]
    python eval/universal.py --protocol lodo --leave-out PhC-C2DH-U373 [--minutes 20]
    python eval/universal.py --protocol finetune --dataset Fluo-C2DL-MSC --minutes 8 \
        --batch 8 --lr 5e-4
    python eval/universal.py --protocol all --steps 1151 --minutes 400
    python eval/universal.py --protocol all --steps 1151 --seed 1 --runs RUNS2  # spread
    python eval/universal.py --protocol cross --half   # rescore the model as shipped
    python eval/universal.py --table            # print every row recorded so far
    python eval/universal.py --ship universal-01=universal-2d [TAG=NAME ...]
    python eval/universal.py --readme           # the README rows alone

``--ship`` copies finished models into ``models/`` (weights + config.json with
their rows under ``scores["protocols"]``) and rewrites the "Universal models"
section of ``models/README.md`` from every recorded row; lines of that section
no recorded row replaces stay (``--readme`` rewrites it without shipping).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cross_video import post_label, score_run  # noqa: E402  (eval/ is this script's folder)

from ctc.io.folders import list_sequences  # noqa: E402
from ctc.io.subsequence import write_subsequence  # noqa: E402
from ctc.lineage import read_tracks  # noqa: E402
from ctc.segmentation.calibrate import calibrate_model, calibrate_tracking  # noqa: E402
from ctc.segmentation.data import Augment  # noqa: E402
from ctc.segmentation.model import (  # noqa: E402
    DATASET_KEYS,
    WEIGHTS_FILE,
    ModelConfig,
    load_config,
    store_half,
    write_config,
)
from ctc.segmentation.nets import NetConfig  # noqa: E402
from ctc.segmentation.train import CHECKPOINT, TrainConfig, train  # noqa: E402

DATASETS = ("DIC-C2DH-HeLa", "Fluo-C2DL-MSC", "Fluo-N2DH-GOWT1", "Fluo-N2DH-SIM+",
            "PhC-C2DH-U373")
#: PhC-C2DH-U373 02: frames 0..56 train, 57..114 test (the protocol of the issue).
U373_SPLIT = ((0, 56), (57, 114))
#: The smallest object kept: below every 2D dataset's cells (the registry's min_size_px
#: are 50-200 for the datasets measured), so that unseen small-cell datasets keep theirs.
MIN_SIZE = 30


def u373_halves(data: Path, runs: Path) -> Path:
    """PhC-C2DH-U373 02 as a dataset of two sequences: 01 = frames 0-56, 02 = 57-114."""
    out = runs / "data" / "PhC-C2DH-U373"
    for sequence, (first, last) in zip(("01", "02"), U373_SPLIT, strict=True):
        if not (out / sequence).is_dir():
            write_subsequence(data / "PhC-C2DH-U373", "02", first, last, out, sequence)
    return out


def sequences(dataset: Path) -> list[str]:
    return [s for s in list_sequences(dataset) if (dataset / s).is_dir()
            and (dataset / f"{s}_GT").is_dir()]


def protocol_data(protocol: str, data: Path, runs: Path, dataset: str | None
                  ) -> tuple[list[tuple[Path, list[str]]], list[tuple[Path, str]]]:
    """(training data, test sequences) of a protocol."""
    if protocol == "cross":
        folders = [data / d for d in DATASETS if d != "PhC-C2DH-U373"]
        folders.append(u373_halves(data, runs))
        return ([(f, ["01"]) for f in folders], [(f, "02") for f in folders])
    if protocol == "finetune":
        train_on, tests = protocol_data("cross", data, runs, None)
        keep = [i for i, (folder, _) in enumerate(train_on) if folder.name == dataset]
        if not keep:
            raise SystemExit(f"--dataset must be one of {', '.join(DATASETS)}")
        return [train_on[keep[0]]], [tests[keep[0]]]
    if protocol == "lodo":
        if dataset not in DATASETS:
            raise SystemExit(f"--leave-out must be one of {', '.join(DATASETS)}")
        train_on = [(data / d, sequences(data / d)) for d in DATASETS if d != dataset]
        return train_on, [(data / dataset, s) for s in sequences(data / dataset)]
    return [(data / d, sequences(data / d)) for d in DATASETS], []


def settings(args: argparse.Namespace, truth: str = "GT+ST") -> TrainConfig:
    # One crop size and brightness range for all: 192 px holds several cells of every
    # dataset; the brightness reaches down for GOWT1's and SIM+'s dim nuclei.
    return TrainConfig(steps=args.steps, batch=args.batch, crop=192, lr=args.lr, restart=400,
                       val_every=50, val_frames=2, truth=truth, device=args.device,
                       max_minutes=args.minutes, augment=Augment(gain=(0.1, 1.5)),
                       joint=not args.separate_forward, seed=args.seed)


def run_tag(protocol: str, dataset: str | None) -> str:
    return {"cross": "universal-01", "all": "universal-all",
            "finetune": f"universal-01-tuned-{dataset}"}.get(
        protocol, f"universal-without-{dataset}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/universal"))
    parser.add_argument("--protocol", choices=("cross", "lodo", "finetune", "all"))
    parser.add_argument("--leave-out", "--dataset", dest="dataset", metavar="DATASET",
                        help="the dataset left out (lodo) or fine-tuned on (finetune)")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=4, help="crops per dataset per step (4)")
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate (2e-3)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the initial weights, crops and augmentation (0); a "
                             "second seed in another --runs folder measures the spread")
    parser.add_argument("--separate-forward", action="store_true",
                        help="one forward pass per dataset (the scheme before 2026-12-03, "
                             "whose batch-norm statistics failed DIC-HeLa)")
    parser.add_argument("--recalibrate", action="store_true",
                        help="choose a finished run's post-processing again on its training "
                             "data (per dataset) before testing")
    parser.add_argument("--tracking", action="store_true",
                        help="with --recalibrate: also choose the minimum track length on the "
                             "whole training sequences")
    parser.add_argument("--half", action="store_true",
                        help="store a finished run's weights in half precision (as models/ "
                             "ships them) before testing, so the rows score the shipped bytes")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("MODEL_A", "MODEL_B"),
                        help="score two universal models on the held-out frames of sequence "
                             "01 of each dataset with two sequences (the frames both the "
                             "cross and the all protocols keep out of training)")
    parser.add_argument("--table", action="store_true", help="print the recorded rows")
    parser.add_argument("--ship", nargs="+", metavar="TAG=NAME",
                        help="copy finished runs into models/NAME and write their README rows")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the README rows from the recorded ones, shipping nothing")
    args = parser.parse_args()
    if args.compare:
        compare(args.data, args.compare, settings(args).val_frames, args.device)
        return
    args.runs.mkdir(parents=True, exist_ok=True)
    results = args.runs / "universal.json"
    if args.protocol:
        train_on, tests = protocol_data(args.protocol, args.data, args.runs, args.dataset)
        tag = run_tag(args.protocol, args.dataset)
        model_dir = args.runs / tag
        finished = (model_dir / "config.json").exists() and "minutes" in load_config(
            model_dir).training
        if not finished:
            config = ModelConfig(net=NetConfig(base=16), loss={"name": "wce"},
                                 postprocess={"min_size": MIN_SIZE, "fill_holes": True,
                                              "tile": 1024, "overlap": 64, "tta": "none"})
            print(f"== training {tag} on " + ", ".join(
                f"{d.name} {'+'.join(s)}" for d, s in train_on) + f" ({args.minutes} min)",
                flush=True)
            init = args.runs / run_tag("cross", None) if args.protocol == "finetune" else None
            if init is not None:
                config = load_config(init)
                config.scores, config.training = {}, {}
            # one dataset alone: its silver truth where it has some (universal training
            # takes gold alone for sequences without; a single dataset must say so)
            truth = ("GT+ST" if len(train_on) > 1 or all(
                (folder / f"{seq}_ST").is_dir() for folder, seqs in train_on for seq in seqs)
                else "GT")
            train(config, train_on, model_dir, settings(args, truth),
                  resume=(model_dir / CHECKPOINT).exists(), init=init, progress=False)
        elif args.recalibrate:
            calibrate_model(model_dir, train_on, val_frames=settings(args).val_frames,
                            device=args.device, progress=False)
            if args.tracking:
                calibrate_tracking(model_dir, train_on, device=args.device, progress=False)
        if args.half and store_half(model_dir):
            print(f"{model_dir}: weights stored in half precision", flush=True)
        if args.protocol == "all":
            for row in submission_rows(tag, model_dir, train_on, args.device,
                                       settings(args).val_frames):
                print(json.dumps(row), flush=True)
                record(results, row)
        for dataset, sequence in tests:
            config = load_config(model_dir).for_dataset(dataset.name)
            res = args.runs / f"{tag}-{dataset.name}-{sequence}_RES"
            measured = score_run(dataset, sequence, model_dir, res, args.device)
            test = sequence + (" (frames 57-114)" if dataset.name == "PhC-C2DH-U373"
                               and args.protocol in ("cross", "finetune") else "")
            row = {"model": tag, "protocol": args.protocol, "dataset": dataset.name,
                   "test": test, **measured,
                   "training_minutes": config.training.get("minutes"),
                   "steps": config.training.get("steps_done"),
                   "best_step": config.scores.get("step"),
                   "postprocess": {k: config.postprocess[k] for k in DATASET_KEYS
                                   if k in config.postprocess},
                   "split_merged": config.tracking.get("split_merged", False),
                   "min_track_length": config.tracking.get("min_track_length", 0),
                   "forward": "joint" if config.training.get("joint") else "separate"}
            print(json.dumps(row), flush=True)
            record(results, row)
    rows = json.loads(results.read_text()) if results.exists() else []
    if args.ship or args.readme:
        ship(args.runs, rows, dict(item.split("=", 1) for item in args.ship or ()),
             REPO / "models")
    print(f"\n{'model':36s} {'dataset':16s} {'test':17s} {'SEG':>6s} {'DET':>6s} {'TRA':>6s} "
          f"{'FP':>6s} {'tracks':>9s} {'CT':>6s} {'TF':>6s} {'min':>5s} {'steps':>5s} post")
    for r in rows:
        print(f"{r['model']:36s} {r['dataset']:16s} {r['test']:17s} {r['SEG']:6.3f} "
              f"{r['DET']:6.3f} {r['TRA']:6.3f} {r['FP']:6d} "
              f"{r['tracks']:>4d}/{r['gt_tracks']:<4d} {r['CT']:6.3f} {r['TF']:6.3f} "
              f"{r['training_minutes']:5.1f} {r['steps']:5d} {row_post(r)}")


def compare(data: Path, models: list[Path], val_frames: int, device: str) -> None:
    """SEG / DET of each model, with its post-processing for the dataset, on the frames
    of sequence 01 that training held out (the same frames for every protocol that
    trains on 01: ``heldout.validation_frames`` depends on the sequence alone)."""
    from ctc.segmentation.heldout import evaluate_frames, load_validation, validation_frames
    from ctc.segmentation.model import load_model

    loaded = [(folder, *load_model(folder, device)) for folder in models]
    for name in DATASETS:
        if name == "PhC-C2DH-U373":  # the cross protocol holds out frames of its first half
            continue
        cells = []
        for folder, config, net in loaded:
            config = config.for_dataset(name)
            held = validation_frames(data / name, "01", val_frames)
            frames = load_validation(data / name, "01", held, config.normalization)
            scores = evaluate_frames(net, frames, config, next(net.parameters()).device)
            det = scores.get("DET", float("nan"))
            cells.append(f"{folder.name} {scores['SEG']:.3f} / {det:.3f}")
        print(f"{name} 01 frames {held}: " + "; ".join(cells), flush=True)


def submission_rows(tag: str, model_dir: Path, train_on: list[tuple[Path, list[str]]],
                    device: str, val_frames: int) -> list[dict]:
    """The ``all`` model made as it ships, and one row per training sequence.

    Its weights are stored in half precision, and its shortest track is chosen on
    every training sequence segmented whole with them (``calibrate_tracking``); the
    post-processing stays what training chose on the float32 weights (per dataset,
    on the frames training held out; choosing it again would take as long again, and
    the rescored ``cross`` model shows what half precision changes). Each step is
    skipped where done, so an interrupted run continues. The rows are the scores of
    the chosen track minimum on the sequences it learnt from.
    """
    store_half(model_dir)
    config = load_config(model_dir)
    if "calibration" not in config.scores:  # training calibrates; an interrupted one not
        config = calibrate_model(model_dir, train_on, val_frames=val_frames, device=device,
                                 progress=False)
    if "track_length_calibration" not in config.scores:
        config = calibrate_tracking(model_dir, train_on, device=device, progress=False)
    chosen = config.tracking.get("min_track_length", 0)
    scored = next(r for r in config.scores["track_length_calibration"]
                  if r["min_track_length"] == chosen)["sequences"]
    rows = []
    for measured in scored:
        name, sequence = measured["sequence"].rsplit(" ", 1)
        dataset = next(folder for folder, _ in train_on if folder.name == name)
        post = config.for_dataset(name).postprocess
        rows.append({"model": tag, "protocol": "all", "dataset": name,
                     "test": f"{sequence} (trained on)",
                     **{k: measured[k] for k in ("SEG", "DET", "TRA", "FP", "tracks")},
                     "gt_tracks": len(read_tracks(dataset / f"{sequence}_GT" / "TRA"
                                                  / "man_track.txt")),
                     "training_minutes": config.training.get("minutes"),
                     "steps": config.training.get("steps_done"),
                     "best_step": config.scores.get("step"),
                     "postprocess": {k: post[k] for k in DATASET_KEYS if k in post},
                     "split_merged": config.tracking.get("split_merged", False),
                     "min_track_length": chosen, "forward": "joint", "weights": "float16"})
    return rows


def row_post(row: dict) -> str:
    """The post-processing of a row, with the merge cut and the minimum track length where
    they were set."""
    length = row.get("min_track_length", 0)
    size = (row.get("postprocess") or {}).get("min_size")
    return (post_label(row) + (f" + objects >= {size} px" if size and size > MIN_SIZE else "")
            + (" + merged cells cut" if row.get("split_merged") else "")
            + (f" + tracks >= {length} frames" if length > 1 else ""))


def copy_model(source: Path, target: Path, rows: list[dict]) -> None:
    """Copy a finished model folder into `target` (weights + config.json without the
    training history), its measured `rows` under ``scores["protocols"]``."""
    config = load_config(source)
    if "minutes" not in config.training:
        raise SystemExit(f"{source}: training has not finished")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / WEIGHTS_FILE, target / WEIGHTS_FILE)
    config.training.pop("history", None)
    config.scores["protocols"] = rows
    write_config(target, config)


def row_forward(row: dict) -> str:
    """How a multi-dataset row's steps passed the minibatches: said only for the older
    scheme (rows recorded before the field existed were all trained that way)."""
    if row["protocol"] == "finetune" or row.get("forward", "separate") == "joint":
        return ""
    return ", one forward per dataset"


README_SECTION = "## Universal models"

SECTION_INTRO = """{section}

Written by `python eval/universal.py --ship ...` from the rows of
`eval/universal.py` (protocols in its docstring): one U-Net (base 16, three
classes, weighted cross-entropy) for all 2D datasets, every optimisation step
one minibatch of 4 crops (192 px) from each dataset, gold and silver truth
where silver exists (allGT+allST). `cross`: trained on sequence 01 of DIC-C2DH-HeLa,
Fluo-C2DL-MSC, Fluo-N2DH-GOWT1 and Fluo-N2DH-SIM+ and on frames 0-56 of
PhC-C2DH-U373 02; tested on sequence 02 and on U373 frames 57-114. `lodo`: trained
on every sequence of the other four datasets; tested on the dataset left out (the
estimate for a kind of cell no model has seen). `finetune`: the `cross` model
trained further on one dataset's training part alone. `all`: trained on every
annotated sequence of the five (all of U373 02); not shipped, as it lost to
`universal-2d` on held-out frames neither trained on (README, "A universal model
trained on both sequences"). `universal-2d` and `nuclei-3d` are stored in half
precision and their rows are scored as stored. Checkpoints and
post-processing are chosen on held-out frames of the training data only; a model
trained on several datasets has its post-processing chosen per dataset too
(`dataset_postprocess`, used for the datasets it saw; the pooled setting for the
others, so the leave-one-out rows use the pooled one). Rows with `--recalibrate
--tracking` also drop tracks shorter than a minimum chosen on the whole training
sequences. `-pooled` rows: the same weights before those calibrations. FP:
false-positive vertices of the TRA graph; tracks: result / GT tracks. "One
forward per dataset": trained before the minibatches of a step went through the
network together; its batch-norm statistics were a blend no training batch had
(the reason it read DIC-HeLa frames as one cell).

| model | shipped as | protocol | dataset | tested on | SEG | DET | TRA | FP | tracks | CT | TF \
| training | post-processing |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def ship(runs: Path, rows: list[dict], names: dict[str, str], models: Path) -> None:
    """Copy the runs `names` (tag -> model name) into `models` and rewrite the README
    section: a line per recorded row, then the section's earlier lines that no recorded
    row replaces (rows measured in another runs folder, or one since cleared)."""
    for tag, name in names.items():
        copy_model(runs / tag, models / name, [r for r in rows if r["model"] == tag])
    readme = models / "README.md"
    text = readme.read_text() if readme.exists() else ""
    section = text.partition(README_SECTION)[2].split("\n## ", 1)[0]
    kept = {(cells[0], cells[3], cells[4]): (cells, line)
            for cells, line in table_lines(section) if len(cells) > 4}
    lines = [SECTION_INTRO.format(section=README_SECTION)]
    for r in rows:
        name = f"`{names[r['model']]}`" if r["model"] in names else "-"
        previous = kept.pop((f"`{r['model']}`", r["dataset"], r["test"]), None)
        if name == "-" and previous is not None:  # shipped earlier: it still is
            name = previous[0][1]
        lines.append(
            f"| `{r['model']}` | {name} | {r['protocol']} | {r['dataset']} | {r['test']} | "
            f"{r['SEG']:.3f} | {r['DET']:.3f} | {r['TRA']:.3f} | {measured_cells(r)} | "
            f"{r['training_minutes']:.1f} min CPU, {r['steps']} steps{row_forward(r)} | "
            f"{row_post(r)} |\n")
    lines += [line + "\n" for _, line in kept.values()]
    replace_readme_section(readme, README_SECTION, "".join(lines))


def table_lines(text: str) -> list[tuple[list[str], str]]:
    """(cells, line) of each model line of the markdown tables in `text`: the lines whose
    first cell is a `name`."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("`"):
            rows.append((cells, line.strip()))
    return rows


def measured_cells(row: dict) -> str:
    """The FP, tracks, CT and TF cells of a row ('-' where the row predates them)."""
    if row.get("FP") is None:
        return "- | - | - | -"
    biological = " | ".join(f"{row[k]:.3f}" if row.get(k) is not None else "-"
                            for k in ("CT", "TF"))
    return f"{row['FP']} | {row['tracks']} / {row['gt_tracks']} | {biological}"


def replace_readme_section(readme: Path, heading: str, section: str) -> None:
    """Put `section` (starting with `heading`) in place of that section of `readme`, or
    at its end; the other sections stay as they are."""
    text = readme.read_text() if readme.exists() else ""
    if heading in text:
        before, after = text.split(heading, 1)
        rest = after.split("\n## ", 1)
        after = "\n## " + rest[1] if len(rest) > 1 else ""
    else:
        before, after = text, ""
    readme.write_text(before.rstrip() + "\n\n" + section.rstrip() + "\n" + after)


def record(results: Path, row: dict) -> None:
    """Add (or replace) one row of the results file, atomically."""
    rows = json.loads(results.read_text()) if results.exists() else []
    rows = [r for r in rows if (r["model"], r["dataset"], r["test"])
            != (row["model"], row["dataset"], row["test"])] + [row]
    tmp = results.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, indent=2))
    os.replace(tmp, results)


if __name__ == "__main__":
    main()
