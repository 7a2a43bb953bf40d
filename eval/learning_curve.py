"""What a long run learnt over time, and what averaging or ensembling its snapshots gives.

A model trained with ``--snapshots`` (``ctc train`` or ``eval/cross_video.py``)
keeps its weights at the end of every warm-restart cycle. Each chosen snapshot,
each average of the last K snapshots' weights (:mod:`ctc.segmentation.averaging`,
batch-norm statistics measured again on training crops), each ensemble of the
last K snapshots (their probabilities averaged,
:class:`ctc.segmentation.ensemble.Ensemble`) and the run's own selected model
(best held-out validation) is put in a model folder of its own,
calibrated on the training sequence's held-out frames exactly as training ends
(``calibrate_model``: thresholds, size floor, outline refinement), then run on
the test sequence (segment + track, no track-length clean-up) and scored.

So every row is the cross-video protocol at another point of one run; nothing
is chosen on the test sequence. Rows go to ``OUT/curve.json`` as they finish
(an interrupted run continues).

Usage::

    python eval/learning_curve.py RUNS/DIC-C2DH-HeLa-01 --test 02 --out OUT
        [--every 2] [--average 3 6] [--ensemble 3 6] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "eval"))

from cross_video import post_label, score_run  # noqa: E402

from ctc.segmentation.averaging import (  # noqa: E402
    averaged_network,
    load_snapshot,
    snapshot_ensemble,
)
from ctc.segmentation.calibrate import calibrate_model  # noqa: E402
from ctc.segmentation.model import (  # noqa: E402
    WEIGHTS_FILE,
    build_net,
    load_config,
    load_model,
    save_model,
)
from ctc.segmentation.train import PROGRESS_LOG, SNAPSHOTS, snapshot_path  # noqa: E402


def snapshot_steps(model_dir: Path) -> list[int]:
    """The steps whose snapshots the run kept, in order."""
    return sorted(int(p.stem.split("-")[1]) for p in (model_dir / SNAPSHOTS).glob("step-*.pt"))


def candidates(model_dir: Path, every: int, averages: list[int],
               ensembles: list[int] = ()) -> list[tuple[str, list[int], str]]:
    """(name, snapshot steps, kind) of every row: every `every`-th snapshot counted back
    from the last, the weight averages and the ensembles of the last K, and the selected
    model (no steps). Kinds: "snapshot", "average", "ensemble", "selected"."""
    steps = snapshot_steps(model_dir)
    if not steps:
        raise SystemExit(f"{model_dir}: no snapshots; train with --snapshots")
    chosen = steps[::-1][::every][::-1]
    rows = [(f"step {s}", [s], "snapshot") for s in chosen]
    rows += [(f"average of the last {k} ({steps[-k]}-{steps[-1]})", steps[-k:], "average")
             for k in averages if k <= len(steps)]
    rows += [(f"ensemble of the last {k} ({steps[-k]}-{steps[-1]})", steps[-k:], "ensemble")
             for k in ensembles if k <= len(steps)]
    return rows + [("selected (best held-out validation)", [], "selected")]


def row_folder(kind: str, steps: list[int]) -> str:
    """The folder name of a row's model: what it is, so rows added to a curve later
    never take the folder of another."""
    if kind == "snapshot":
        return f"step-{steps[0]}"
    return kind if kind == "selected" else f"{kind}-{steps[0]}-{steps[-1]}"


def build_row_model(model_dir: Path, steps: list[int], kind: str, folder: Path) -> None:
    """Write the model of one row into `folder` (uncalibrated copy of the run's config)."""
    config = load_config(model_dir)
    files = [snapshot_path(model_dir, s) for s in steps]
    if kind == "selected":
        _, net = load_model(model_dir)
    elif kind == "snapshot":
        net = build_net(config)
        net.load_state_dict(load_snapshot(files[0]))
    elif kind == "average":
        net = averaged_network(config, files)
    else:
        config, net = snapshot_ensemble(config, files)
    save_model(folder, config, net.eval())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="model folder trained with --snapshots")
    parser.add_argument("--test", required=True, help="test sequence, e.g. 02")
    parser.add_argument("--out", type=Path, required=True, help="folder of the row models")
    parser.add_argument("--every", type=int, default=2, help="score every N-th snapshot (2)")
    parser.add_argument("--average", type=int, nargs="*", default=[3, 6],
                        help="averages of the last K snapshots' weights to score (3 6)")
    parser.add_argument("--ensemble", type=int, nargs="*", default=[],
                        help="ensembles of the last K snapshots to score (none)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--markdown", action="store_true", help="print the table only")
    args = parser.parse_args()
    results = args.out / "curve.json"
    rows = json.loads(results.read_text()) if results.exists() else []
    if not args.markdown:
        config = load_config(args.model)
        data = [(Path(d), list(s)) for d, s in config.training["data"]]
        dataset = data[0][0]
        logged = {line["step"]: {k: line.get(k) for k in ("SEG", "DET")}
                  for line in map(json.loads, (args.model / PROGRESS_LOG).read_text()
                                  .splitlines())}
        args.out.mkdir(parents=True, exist_ok=True)
        for name, steps, kind in candidates(args.model, args.every, args.average,
                                            args.ensemble):
            if any(r["name"] == name for r in rows):
                continue
            folder = args.out / row_folder(kind, steps)
            if not (folder / WEIGHTS_FILE).exists() or "calibration" not in load_config(
                    folder).scores:
                build_row_model(args.model, steps, kind, folder)
                calibrate_model(folder, data, device=args.device, progress=False,
                                log=lambda *_: None)
            measured = score_run(dataset, args.test, folder,
                                 args.out / f"{folder.name}-on-{args.test}_RES", args.device)
            chosen = load_config(folder)
            heldout = chosen.scores["calibration"][0]
            selected = config.scores.get("step") if not steps else None
            at = steps[0] if len(steps) == 1 else selected
            row = {"name": name, "steps": steps, "dataset": dataset.name,
                   "train": "+".join(data[0][1]), "test": args.test, **measured,
                   "selected_step": selected,
                   # the two ways of ranking checkpoints on the training sequence's
                   # held-out frames: calibrated post-processing, and what training
                   # logged at this step (its configured post-processing)
                   "heldout_calibrated": {k: heldout.get(k) for k in ("SEG", "DET")},
                   "heldout_logged": logged.get(at),
                   "postprocess": {k: chosen.postprocess.get(k)
                                   for k in ("method", "seed_threshold", "min_size", "split",
                                             "refine")}}
            print(json.dumps(row), flush=True)
            rows = [r for r in rows if r["name"] != name] + [row]
            tmp = results.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, indent=2))
            os.replace(tmp, results)
    print("| row | held-out SEG / DET, calibrated | as logged in training | SEG | DET | TRA "
          "| FP | tracks (GT) | post-processing chosen |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        name = r["name"] + (f", step {r['selected_step']}" if r.get("selected_step") else "")
        post = r["postprocess"]
        cal, logged_row = r["heldout_calibrated"], r.get("heldout_logged") or {}
        logged_cell = (f"{logged_row['SEG']:.3f} / {logged_row['DET']:.3f}" if logged_row
                       else "–")
        print(f"| {name} | {cal['SEG']:.3f} / {cal['DET']:.3f} | {logged_cell} "
              f"| {r['SEG']:.3f} | {r['DET']:.3f} | {r['TRA']:.3f} | {r['FP']} | "
              f"{r['tracks']} ({r['gt_tracks']}) | {post_label(r)}, ≥ {post['min_size']} px |")


if __name__ == "__main__":
    main()
