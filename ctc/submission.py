"""CTC executables and submission packaging.

A submission is a ZIP with a ``SW/`` folder (the toolkit's sources, the
executables, the models they use, a README) and the ``DATASET/NN_RES``
results. The organisers run ``cd SW && ./DATASET-01.sh``, which reads
``../DATASET/01`` and writes ``../DATASET/01_RES``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import warnings
import zipfile
from pathlib import Path

from ctc.datasets import DEFAULT_REGISTRY, DatasetInfo, read_registry
from ctc.errors import CTCFormatError, CTCInputError, CTCWarning
from ctc.io.atomic import user_mode
from ctc.validation import validate_result

PACKAGE_DIR = Path(__file__).resolve().parent
REQUIREMENTS = ("numpy", "scipy", "scikit-image", "tifffile", "networkx", "pandas", "numba",
                "tqdm", "torch")

RUN_TEMPLATE = """#!/usr/bin/env bash
# {script}: segmentation and tracking of {name} sequence {seq} with ctc-toolkit.
#
# Prerequisites: Linux; Python >= 3.10 with {requirements}
#   (pip install -r requirements.txt); an NVIDIA GPU with CUDA is used when
#   present, else the CPU. No internet access is needed.
# Parameters: the model {model} (architecture, post-processing and tracking
#   parameters in its config.json); training data configuration {config}.
# {seen}
# Run from the folder holding this script:  ./{script}
#   input  ../{name}/{seq}       (tTTT.tif)
#   output ../{name}/{seq}_RES   (maskTTT.tif + res_track.txt), written atomically:
#   an interrupted run leaves no partial result.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"   # in the repository: executables/..
MODEL="$ROOT/models/{model}"
INPUT="../{name}/{seq}"
if [ ! -f "$MODEL/weights.pt" ]; then
    echo "{script}: model not found: $MODEL (ship models/ beside this script;" \\
         "train-{name}-{config}.sh trains one into models/{name}-{config})" >&2
    exit 2
fi
if [ ! -d "$INPUT" ]; then
    echo "{script}: input sequence not found: $INPUT (run from the SW folder)" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${{PYTHONPATH:+:$PYTHONPATH}}"
exec python3 -m ctc run "../{name}" {seq} --model "$MODEL" --overwrite
"""

UNTRAINED_TEMPLATE = """#!/usr/bin/env bash
# {name}-{seq}.sh: no trained model for {name} yet (datasets.txt marks it untrained).
echo "{name}-{seq}.sh: no trained model for {name}; train one with train-{name}-GT.sh" >&2
exit 2
"""

TRAIN_TEMPLATE = """#!/usr/bin/env bash
# train-{label}.sh: train the {config} model of {what} with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: {inputs} (training sequences with NN_GT{st}).
# Output: models/{model} (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-{label}.sh --resume{recipe_note}
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${{PYTHONPATH:+:$PYTHONPATH}}"
exec python3 -m ctc train {datasets} --truth {truth}{recipe} --out "$ROOT/models/{model}" "$@"
"""

RECIPE_NOTE = """
# The settings below are the recipe of the shipped models/{model} (its config.json):
# the same number of steps from the same seed (it was trained on a CPU; a GPU rounds
# differently, so expect close, not identical, weights there)."""

def _configs(info: DatasetInfo) -> list[str]:
    return ["GT", "ST", "GT+ST"] if info.silver_truth else ["GT"]


def _write_script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _shipped_config(models_dir: Path, model: str) -> dict:
    """A shipped model's config.json as a dict ({} where it is missing or unreadable)."""
    try:
        config = json.loads((models_dir / model / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _training_datasets(models_dir: Path, model: str) -> list[str]:
    """The names of the datasets a model's config.json says it was trained on."""
    try:
        training = _shipped_config(models_dir, model)["training"]
        folders = [folder for folder, _ in training["data"]] + training.get("pretrained_on", [])
        return sorted({Path(folder).name for folder in folders})
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _seen_line(models_dir: Path, model: str, name: str) -> str:
    """The executable header's line on whether `model` saw dataset `name` in training."""
    datasets = _training_datasets(models_dir, model)
    if not datasets:
        return f"Training data of {model}: not recorded."
    seen = ("it was trained on this dataset" if name in datasets
            else "it has NOT seen this dataset (see models/README.md, leave-one-dataset-out, "
                 "for what to expect)")
    return f"Model {model} was trained on {', '.join(datasets)}:\n#   {seen}."


def _training_truth(models_dir: Path, model: str) -> str:
    """The training data configuration (GT, ST, GT+ST) recorded in a model's config.json."""
    training = _shipped_config(models_dir, model).get("training")
    return str(training.get("truth", "GT")) if isinstance(training, dict) else "GT"


def _recipe_arguments(models_dir: Path, model: str) -> str:
    """The ``ctc train`` options that repeat the training recorded in a shipped model's
    config.json ("" where there is no such model)."""
    config = _shipped_config(models_dir, model)
    try:
        training = config["training"]
        options = [f"--steps {int(training['steps_done'])}"]
        options += [f"--{key.replace('_', '-')} {training[key]}"
                    for key in ("batch", "crop", "lr", "restart", "val_every", "val_frames",
                                "seed") if key in training]
        options += [f"--{key} {training[key]}" for key, default in
                    (("select", "any"), ("validation", "fixed"))
                    if training.get(key, default) != default]
        gain = (training.get("augment") or {}).get("gain")
        if gain:
            options.append(f"--gain {gain[0]} {gain[1]}")
        if config.get("markers"):
            options.append("--distance" if config.get("markers_from") == "segmentation"
                           else "--markers")
        if "track_length_calibration" in config.get("scores", {}):
            options.append("--tracking")
    except (KeyError, TypeError, ValueError):
        return ""
    return " " + " ".join(options)


def generate_executables(out_dir: str | Path, registry: dict[str, DatasetInfo] | None = None,
                         models_dir: str | Path | None = None) -> list[Path]:
    """Write the executables and training scripts of every registered dataset.

    `models_dir` holds the shipped models (default: ``models/`` beside `out_dir`);
    each executable names the training data configuration its model records.
    """
    registry = registry if registry is not None else read_registry()
    out = Path(out_dir)
    models = Path(models_dir) if models_dir is not None else out.parent / "models"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    requirements = ", ".join(REQUIREMENTS)
    for name, info in sorted(registry.items()):
        for seq in ("01", "02"):
            if info.trained:
                text = RUN_TEMPLATE.format(name=name, seq=seq, model=info.model,
                                           script=f"{name}-{seq}.sh",
                                           seen=_seen_line(models, info.model, name),
                                           config=_training_truth(models, info.model),
                                           requirements=requirements)
            else:
                text = UNTRAINED_TEMPLATE.format(name=name, seq=seq)
            written.append(out / f"{name}-{seq}.sh")
            _write_script(written[-1], text)
            for config in _configs(info)[1:]:
                model = f"{name}-{config}"
                written.append(out / f"{name}-{seq}-{config}.sh")
                _write_script(written[-1], RUN_TEMPLATE.format(
                    name=name, seq=seq, model=model, config=config,
                    seen=_seen_line(models, model, name),
                    script=f"{name}-{seq}-{config}.sh", requirements=requirements))
        for config in _configs(info):
            written.append(out / f"train-{name}-{config}.sh")
            recipe = _recipe_arguments(models, f"{name}-{config}")
            _write_script(written[-1], TRAIN_TEMPLATE.format(
                label=f"{name}-{config}", config=config, what=name,
                inputs=f"../{name}/01, ../{name}/02", st=" and NN_ST" if "ST" in config else "",
                model=f"{name}-{config}", datasets=f'"../{name}"', truth=config,
                recipe=recipe,
                recipe_note=RECIPE_NOTE.format(model=f"{name}-{config}") if recipe else ""))
    written.append(out / "requirements.txt")  # the scripts' headers point at it
    written[-1].write_text("\n".join(REQUIREMENTS) + "\n")
    for config in ("GT", "ST", "GT+ST"):
        label = "all" + "+all".join(config.split("+"))
        names = sorted(n for n, i in registry.items()
                       if "ST" not in config or i.silver_truth)
        written.append(out / f"train-{label}.sh")
        _write_script(written[-1], TRAIN_TEMPLATE.format(
            label=label, config=label, what="all datasets (one universal model)",
            inputs=", ".join(f"../{n}" for n in names), st="" if config == "GT" else " and NN_ST",
            model=label, datasets=" ".join(f'"../{n}"' for n in names), truth=config,
            recipe="", recipe_note=""))
    return written


def _add_file(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    """Store a file with its permissions (executables stay executable)."""
    info = zipfile.ZipInfo.from_file(path, name)
    info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
    archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)


def _add_tree(archive: zipfile.ZipFile, source: Path, prefix: str) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            _add_file(archive, path, f"{prefix}/{path.relative_to(source)}")


def package(datasets: list[str], out: str | Path, *, results_root: str | Path,
            executables_dir: str | Path, models_dir: str | Path,
            registry: dict[str, DatasetInfo] | None = None) -> Path:
    """Assemble a submission ZIP for `datasets`.

    Every ``DATASET/NN_RES`` found under `results_root` is validated first;
    an invalid one stops the packaging with the problems it has, and a
    sequence without a result is warned about. Each executable is shipped
    with the model it runs; one whose model is missing is left out, with a
    warning.
    """
    registry = registry if registry is not None else read_registry()
    root = Path(results_root)
    results = []
    for name in datasets:
        if name not in registry:
            raise CTCInputError(f"{name} is not in the dataset registry")
        found = sorted((root / name).glob("*_RES"))
        present = {p.name[:-len("_RES")] for p in found if p.is_dir()}
        for seq in sorted({"01", "02"} - present):
            warnings.warn(f"{root / name / (seq + '_RES')} not found: the submission will "
                          f"have no result for {name} {seq}", CTCWarning, stacklevel=2)
        for res in found:
            report = validate_result(res)
            if not report.valid:
                listing = "; ".join(str(p) for p in report.errors[:5])
                raise CTCFormatError(f"invalid result, not packaged: {listing}", res)
            results.append((name, res))
    out = Path(out)
    if out.is_dir():
        raise CTCInputError("is a folder; give the archive's file name (--out)", out)
    if not out.parent.is_dir():
        raise CTCInputError("the folder of the archive does not exist", out.parent)
    scripts, models = [], set()
    for script in sorted(Path(executables_dir).glob("*.sh")):
        if not any(script.name.startswith(f"{n}-") or script.name.startswith(f"train-{n}-")
                   for n in datasets):
            continue
        model = _script_model(script)
        if model is not None and not (Path(models_dir) / model / "weights.pt").is_file():
            warnings.warn(f"{script.name} left out: its model {model} is not in {models_dir} "
                          f"(train it with train-{model}.sh first)", CTCWarning, stacklevel=2)
            continue
        scripts.append(script)
        if model is not None:
            models.add(model)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            _add_tree(archive, PACKAGE_DIR, "SW/ctc")
            for model in sorted(models):
                _add_tree(archive, Path(models_dir) / model, f"SW/models/{model}")
            for script in scripts:
                _add_file(archive, script, f"SW/{script.name}")
            archive.writestr("SW/requirements.txt", "\n".join(REQUIREMENTS) + "\n")
            if DEFAULT_REGISTRY.is_file():  # the voxel sizes 3D segmentation and tracking use
                _add_file(archive, DEFAULT_REGISTRY, "SW/datasets.txt")
            archive.writestr("SW/README.txt", _readme(datasets, registry))
            for name, res in results:
                _add_tree(archive, res, f"{name}/{res.name}")
        os.chmod(tmp, user_mode())  # mkstemp makes it 0600
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return out


def _script_model(script: Path) -> str | None:
    """The model folder an executable runs (its ``MODEL=`` line), or None (training scripts)."""
    match = re.search(r'^MODEL="\$ROOT/models/([^"]+)"$', script.read_text(), flags=re.M)
    return match.group(1) if match else None


def _readme(datasets: list[str], registry: dict[str, DatasetInfo]) -> str:
    lines = ["ctc-toolkit submission", "", "Prerequisites: Linux, Python >= 3.10, "
             "pip install -r requirements.txt (CPU or CUDA PyTorch); no internet access.",
             "Run, from this folder: ./DATASET-01.sh and ./DATASET-02.sh; each reads "
             "../DATASET/0N and writes ../DATASET/0N_RES.", "", "Datasets and models:"]
    for name in datasets:
        info = registry[name]
        lines.append(f"  {name}: model {info.model or 'untrained'}"
                     + (f", min_size {info.min_size_px}" if info.min_size_px else ""))
    lines += ["", "Parameters of each model: models/MODEL/config.json (architecture, "
              "post-processing, tracking).", ""]
    return "\n".join(lines)


def check_package(archive: str | Path, data_root: str | Path, dataset: str,
                  sequence: str = "01") -> Path:
    """Unpack a submission into a temporary folder and run one executable end to end.

    The raw sequence ``data_root/DATASET/SEQ`` is linked beside the unpacked
    ``SW``; returns the folder of the validated result (inside the temporary
    unpacking, which the caller may inspect).
    """
    work = Path(tempfile.mkdtemp(prefix="ctc-package-check-"))
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            zf.extract(member, work)
            mode = member.external_attr >> 16
            if mode:
                os.chmod(work / member.filename, mode)
    target = work / dataset
    if target.exists():
        shutil.rmtree(target)  # the packaged results are not inputs
    target.mkdir()
    (target / sequence).symlink_to(Path(data_root).resolve() / dataset / sequence)
    script = work / "SW" / f"{dataset}-{sequence}.sh"
    if not script.is_file():
        raise CTCInputError(f"the package has no executable {script.name}", archive)
    proc = subprocess.run([str(script)], cwd=work / "SW", capture_output=True, text=True)
    if proc.returncode != 0:
        raise CTCFormatError(f"{script.name} failed ({proc.returncode}): "
                             f"{proc.stderr.strip()[-500:]}", archive)
    report = validate_result(target / f"{sequence}_RES")
    if not report.valid:
        raise CTCFormatError(f"the executable's result is invalid: {report.summary()}", archive)
    return target / f"{sequence}_RES"
