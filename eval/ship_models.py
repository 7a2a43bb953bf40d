"""Copy finished cross-video models into models/ and write models/README.md from their scores.

For each dataset and network the model with the higher cross-video SEG is
shipped: the U-Net as ``models/DATASET-SEQ/`` (the datasets' default models),
GRUU-Net as ``models/DATASET-SEQ-gruunet/`` (config.json with its measured
scores + weights.pt). The recurrent hourglass (RSHN) is kept as a recipe,
``eval/recipes/DATASET-SEQ-rshn.json`` (its config.json, without weights): 2.4 M
parameters that have not learnt to segment at a CPU budget would take 9.4 MB
each of the 64 MiB a device run carries; ``eval/gpu_batch.py`` trains it.

Usage::

    python eval/ship_models.py [--runs /work/runs/cross_video [/work/runs/cv2 ...]]

Several runs folders (each with its ``cross_video.json``) are pooled. Table lines of
models no recorded row covers stay as they are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from universal import README_SECTION, measured_cells, row_post, table_lines  # noqa: E402

from ctc.segmentation.model import WEIGHTS_FILE, load_config, load_model, write_config  # noqa: E402
from ctc.segmentation.nets import count_parameters  # noqa: E402

#: Networks kept as recipes (configuration without weights), see the module docstring.
RECIPE_ONLY = {"rshn"}

HEADER = """# models/

One folder per trained model: `config.json` (architecture, targets, loss,
normalisation, post-processing, tracking parameters, how it was trained and
the scores it reached) and `weights.pt`. Use one with
`ctc run DATASET_DIR SEQ --model models/NAME`.

These models come from the cross-video protocol (`python eval/cross_video.py`,
then `python eval/ship_models.py`): trained on one sequence for a fixed CPU
budget, with the post-processing chosen on held-out frames of the training
sequence and the outline refinement (`refine`) on all its gold frames
(`ctc calibrate`), scored on the other sequence against its gold truth
(segment + track, the whole `ctc run` pipeline). They are the honest estimate
of accuracy on unseen data. The executables run the submission models trained on
both sequences (their section below, `eval/submission_models.py`), where a
dataset has them. The recurrent hourglass rows
are recipes: its configuration in `eval/recipes/`, its weights not shipped.

FP: false-positive vertices of the TRA graph; tracks: result / GT tracks ("-" for
rows measured before these were recorded).

| model | net | dataset | trained on | truth | params | training | post-processing | tested on \
| SEG | DET | TRA | FP | tracks | CT | TF |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""

#: Columns of a table line before FP, tracks, CT and TF were recorded.
OLD_COLUMNS = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, nargs="+", default=[Path("/work/runs/cross_video")])
    parser.add_argument("--out", type=Path, default=REPO / "models")
    parser.add_argument("--recipes", type=Path, default=REPO / "eval" / "recipes")
    args = parser.parse_args()
    best: dict[tuple[str, str], dict] = {}
    for runs in args.runs:
        for row in json.loads((runs / "cross_video.json").read_text()):
            key = (row["dataset"], row.get("arch", "unet"))
            if key not in best or row["SEG"] > best[key]["SEG"]:
                best[key] = {**row, "runs": runs}
    lines = [HEADER]
    names: set[str] = set()
    for (dataset, arch), row in sorted(best.items()):
        name = f"{dataset}-{row['train']}" + ("" if arch == "unet" else f"-{arch}")
        source = row["runs"] / name
        config = load_config(source)
        config.training.pop("history", None)
        config.scores["cross_video"] = {k: row[k] for k in (
            "test", "SEG", "DET", "TRA", "FP", "tracks", "gt_tracks", "CT", "TF",
            "inference_seconds") if k in row}
        params = count_parameters(load_model(source)[1])
        if arch in RECIPE_ONLY:
            args.recipes.mkdir(parents=True, exist_ok=True)
            (args.recipes / f"{name}.json").write_text(
                json.dumps(config.to_dict(), indent=2) + "\n")
            shipped = f"`{name}` (recipe only: `eval/recipes/{name}.json`)"
        else:
            target = args.out / name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / WEIGHTS_FILE, target / WEIGHTS_FILE)
            write_config(target, config)
            shipped = f"`{name}`"
        net = arch + (" + markers" if row.get("markers") else "")
        lines.append(
            f"| {shipped} | {net} | {dataset} | {row['train']} | {row['truth']} | {params:,} | "
            f"{row['training_minutes']:.1f} min CPU, {row['steps']} steps | "
            f"{row_post(row)} | {row['test']} | "
            f"{row['SEG']:.3f} | {row['DET']:.3f} | {row['TRA']:.3f} | {measured_cells(row)} |\n")
        names.add(shipped)
    readme = args.out / "README.md"
    text = readme.read_text() if readme.exists() else ""
    # lines of models no recorded row covers (measured in a runs folder since cleared) stay
    lines += [line + "\n" for name, line in old_lines(text).items() if name not in names]
    # the universal models' section is eval/universal.py's; keep it
    kept = text.partition(README_SECTION)
    readme.write_text("".join(lines) + (f"\n{kept[1]}{kept[2]}" if kept[1] else ""))
    print("".join(lines))


def old_lines(text: str) -> dict[str, str]:
    """The model table lines of the README text before the universal section, by the
    model cell, widened with '-' cells when they predate the FP/tracks/CT/TF columns."""
    lines = {}
    for cells, line in table_lines(text.partition(README_SECTION)[0]):
        if len(cells) == OLD_COLUMNS:
            line += " - | - | - | - |"
        if len(cells) >= OLD_COLUMNS:
            lines[cells[0]] = line
    return lines


if __name__ == "__main__":
    main()
