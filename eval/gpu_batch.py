"""The GPU batch: every shipped model configuration retrained on one CUDA device in minutes.

A device machine is lent to some sessions for a quarter of an hour; it sees the
repository and up to 64 MiB in all, never ``../shared``. This script is the one
prepared job for it, in three steps:

``pack`` (here, on CPU)
    Collect the training data of every job into one folder of CTC sequences
    (LZMA-compressed TIFFs of the chosen frames only, gold frames first, then the
    rest spread over each sequence, round robin across sequences until the budget
    is spent) and ``jobs.json``. A job is a shipped model (``models/*/`` with weights) or a
    recipe of ``eval/recipes/`` (configurations not shipped, such as the recurrent
    hourglass): its configuration and the settings it was trained with, as its
    ``config.json`` records them. The budget defaults to what the 64 MiB leave
    beside the repository's tracked files.
``train`` (on the device)
    Train the jobs in order (a fine-tuned model after the model it starts from),
    each with its share of ``--minutes`` by the training time it had, and write
    the models (half-precision weights, in tar parts under 15 MiB) and
    ``log.jsonl`` into ``--out``: at most 8 files, as the device returns.
``unpack`` (here)
    Restore the models (float32 weights, as training them here would have written)
    into a runs folder, for scoring with ``eval/cross_video.py`` or
    ``eval/universal.py`` and shipping with ``eval/ship_models.py``.

``--tiny`` makes every step small enough for the test suite on CPU: two frames
per sequence, two optimisation steps per job at 64 px, no calibration.

Usage::

    python eval/gpu_batch.py pack                    # -> build/gpu_pack (ignored by git)
    # the device (its image has PyTorch and the rest; nothing is installed there):
    #   run(command="python3 eval/gpu_batch.py train --out $OUT --minutes 9 --batch-scale 4",
    #       carry=["build/gpu_pack"], timeout_s=600)
    python eval/gpu_batch.py unpack --from FILES_AT --to /work/runs/gpu

``--batch-scale`` multiplies every job's minibatch: the recorded batches were sized
for 2 CPU cores, and a GPU takes larger ones at nearly the cost of one. On a GPU the
forward pass runs under bfloat16 autocast (``TrainConfig.bf16``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.io.naming import (  # noqa: E402
    RAW_PREFIX,
    SEG_PREFIX,
    TRA_PREFIX,
    find_frames,
    find_slice_annotations,
)
from ctc.io.tiff import read_frame, read_mask  # noqa: E402

#: What a device run carries: the tracked tree and the pack together.
TRANSFER_MIB = 64.0
#: Room kept free beside the tree and the pack (untracked files, rounding).
MARGIN_MIB = 2.0
#: Largest tar part written for the device to return (its limit is 16 MiB a file).
PART_BYTES = 15 * 2 ** 20
#: Files the device returns at most.
MAX_FILES = 8
#: Share of the minutes kept for what follows each job's training (calibration, saving).
OVERHEAD = 0.2
RECIPES = REPO / "eval" / "recipes"
#: The settings of TrainConfig a job takes from the record of how its model was trained.
SETTINGS = ("steps", "batch", "crop", "lr", "weight_decay", "restart", "val_every",
            "val_frames", "seed", "truth", "augment", "window", "calibrate", "bf16",
            "channels_last")


# --- jobs ------------------------------------------------------------------------------


def job_sources(models: Path = REPO / "models", recipes: Path = RECIPES) -> list[tuple[str, dict]]:
    """(name, configuration) of every shipped model with weights and every recipe."""
    sources = [(d.name, json.loads((d / "config.json").read_text()))
               for d in sorted(models.iterdir())
               if (d / "config.json").is_file() and (d / "weights.pt").is_file()]
    if recipes.is_dir():
        sources += [(p.stem, json.loads(p.read_text())) for p in sorted(recipes.glob("*.json"))]
    return sources


def make_jobs(sources: list[tuple[str, dict]]) -> list[dict]:
    """Jobs in training order: each with its configuration, settings, data (dataset name,
    sequences, source folder), the job it starts from (fine-tuning) and its weight (the
    minutes it trained)."""
    jobs = []
    for name, config in sources:
        training = config.get("training", {})
        if not training.get("data"):
            raise SystemExit(f"{name}: its config.json records no training data")
        jobs.append({
            "name": name,
            "config": {k: v for k, v in config.items() if k not in ("training", "scores")},
            "settings": {k: training[k] for k in SETTINGS if k in training},
            "data": [[Path(folder).name, list(seqs), folder] for folder, seqs in training["data"]],
            "pretrained_on": sorted(Path(p).name for p in training.get("pretrained_on", [])),
            "init_name": Path(training["init"]).name if training.get("init") else None,
            "weight": float(training.get("minutes") or training.get("max_minutes") or 1.0),
        })
    for job in jobs:  # a fine-tuned model starts from the job trained on what it was
        job["init"] = None
        if job["pretrained_on"]:
            # the model it started from by name where that one ships (two models may train
            # on the same datasets, e.g. universal-2d and universal-2d-all), else by data
            start = [j["name"] for j in jobs if j is not job and j["config"]["arch"]
                     == job["config"]["arch"] and sorted(d for d, _, _ in j["data"])
                     == job["pretrained_on"]]
            start = [n for n in start if n == job["init_name"]] or start
            if not start:
                raise SystemExit(f"{job['name']}: no job trains the model it was fine-tuned "
                                 f"from (trained on {', '.join(job['pretrained_on'])})")
            job["init"] = start[0]
    done: list[dict] = []
    while len(done) < len(jobs):
        ready = [j for j in jobs if j not in done and (
            j["init"] is None or j["init"] in {d["name"] for d in done})]
        if not ready:
            raise SystemExit("the fine-tuned jobs start from one another in a circle")
        done += ready
    return done


def select(jobs: list[dict], only: list[str] | None) -> list[dict]:
    """The jobs named in `only` and the jobs they start from, in training order."""
    if not only:
        return jobs
    names = {j["name"] for j in jobs}
    unknown = sorted(set(only) - names)
    if unknown:
        raise SystemExit(f"unknown jobs {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    keep, by_name = set(only), {j["name"]: j for j in jobs}
    for name in only:
        while by_name[name]["init"]:
            name = by_name[name]["init"]
            keep.add(name)
    return [j for j in jobs if j["name"] in keep]


# --- pack ------------------------------------------------------------------------------


def tracked_mib(repo: Path = REPO) -> float:
    """Size of the repository's tracked files, which every device run carries."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True,
                           check=True).stdout.decode().split("\0")
    return sum((repo / n).stat().st_size for n in names if n and (repo / n).is_file()) / 2 ** 20


def spread_order(n: int) -> list[int]:
    """0..n-1 in an order that covers the range evenly at every prefix (first, last,
    middle, quarters, ...)."""
    if n <= 2:
        return list(range(n))
    order, seen, parts = [0, n - 1], {0, n - 1}, 2
    while len(order) < n:
        for i in np.linspace(0, n - 1, parts + 1).round().astype(int):
            if int(i) not in seen:
                seen.add(int(i))
                order.append(int(i))
        parts *= 2
    return order


def source_folder(data: Path, name: str, sequences: list[str], recorded: str,
                  scratch: Path) -> Path:
    """The dataset folder holding `sequences`: where training read them, else ``data/name``.

    The universal protocol's PhC-C2DH-U373 training part (frames 0-56 of sequence 02
    as sequence 01, ``eval/universal.py``) is made again under `scratch` where the run
    folder that held it is gone.
    """
    for folder in (Path(recorded), data / name):
        if all((folder / s).is_dir() for s in sequences):
            return folder
    if name == "PhC-C2DH-U373" and sequences == ["01"] and (data / name / "02").is_dir():
        from universal import u373_halves  # eval/ is this script's folder

        return u373_halves(data, scratch)
    raise SystemExit(f"training data of {name} {'+'.join(sequences)} not found in {recorded} "
                     f"or {data / name}; pass --data")


def simulated_settings(name: str, recorded: str) -> dict | None:
    """The ``synth.json`` of a simulated training dataset (``ctc.synth``), or None for real
    data: from the folder training read, else from ``eval/nuclei_3d.py``'s settings. A
    simulated dataset is not packed: the batch simulates it again on the device (the
    same seeds give the same frames)."""
    recorded_json = Path(recorded) / "synth.json"
    if recorded_json.is_file():
        return json.loads(recorded_json.read_text())
    from nuclei_3d import SIMULATED  # eval/ is this script's folder

    if name in SIMULATED:
        return {"simulator": "ctc.synth", "sequences": ["01", "02"],
                **SIMULATED[name].to_dict(), "slice_gt": False}
    return None


def simulate(folder: Path, tiny: bool) -> None:
    """Simulate the dataset whose ``synth.json`` (:func:`simulated_settings`) `folder`
    holds, in place (tiny: two frames of each sequence)."""
    from ctc.synth import SynthConfig, synth_dataset

    recorded = json.loads((folder / "synth.json").read_text())
    known = {f.name for f in fields(SynthConfig)}
    config = SynthConfig(**{k: v for k, v in recorded.items() if k in known})
    if tiny:
        config = replace(config, frames=2)
    synth_dataset(folder, config, tuple(recorded["sequences"]), overwrite=True,
                  slice_gt=bool(recorded.get("slice_gt")))


def annotations(folder: Path, sub: str, prefix: str) -> dict[int, list[Path]]:
    """Annotation files of `folder/sub` by frame: full frames and (gold) 3D slices."""
    d = folder / sub
    if not d.is_dir():
        return {}
    out: dict[int, list[Path]] = {}
    for t, path in find_frames(d, prefix, required=False).paths.items():
        out.setdefault(t, []).append(path)
    if prefix == SEG_PREFIX:
        for (t, _), path in find_slice_annotations(d).items():
            out.setdefault(t, []).append(path)
    return out


def sequence_files(folder: Path, sequence: str, truths: set[str]) -> dict[str, dict]:
    """Raw frames and the annotation files a job may read, by kind, of one sequence."""
    raw = find_frames(folder / sequence, RAW_PREFIX)
    return {"raw": {t: [p] for t, p in raw.paths.items()},
            f"{sequence}_GT/SEG": annotations(folder, f"{sequence}_GT/SEG", SEG_PREFIX),
            f"{sequence}_ST/SEG": (annotations(folder, f"{sequence}_ST/SEG", SEG_PREFIX)
                                   if "ST" in truths else {}),
            # markers mask partial annotations and are the targets of marker models
            f"{sequence}_GT/TRA": annotations(folder, f"{sequence}_GT/TRA", TRA_PREFIX)}


def frame_plan(files: dict[str, dict], sequence: str, markers: bool, window: int = 0
               ) -> list[list[int]]:
    """The frames of one sequence worth packing, in units packed in turn: the gold frames
    first (validation and calibration use them), then the silver and marker-only frames
    spread over the sequence; for recurrent embedding jobs (`window` > 0), runs of
    `window` consecutive frames with markers spread over the sequence, those holding a
    gold frame first."""
    raw = set(files["raw"])
    gold = sorted(set(files[f"{sequence}_GT/SEG"]) & raw)
    if window:  # runs that hold a gold frame first
        marked = np.array(sorted(set(files[f"{sequence}_GT/TRA"]) & raw), int)
        stretches = np.split(marked, np.flatnonzero(np.diff(marked) != 1) + 1)
        runs = [s[i:i + window].tolist() for s in stretches
                for i in range(0, len(s) - window + 1, window)]
        golden = [r for r in runs if set(r) & set(gold)]
        plain = [r for r in runs if not set(r) & set(gold)]
        return ([golden[i] for i in spread_order(len(golden))]
                + [plain[i] for i in spread_order(len(plain))])
    units = [[gold[i]] for i in spread_order(len(gold))]
    rest = set(files[f"{sequence}_ST/SEG"])
    if markers:
        rest |= set(files[f"{sequence}_GT/TRA"])
    others = sorted((rest & raw) - set(gold))
    return units + [[others[i]] for i in spread_order(len(others))]


def pack_frame(files: dict[str, dict], src: Path, dst: Path, sequence: str, t: int
               ) -> list[Path]:
    """Copy frame `t` (raw and its annotations) of `src` into `dst` as LZMA TIFFs."""
    written = []
    for kind, by_frame in files.items():
        for path in by_frame.get(t, []):
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            image = read_frame(path) if kind == "raw" else read_mask(path)
            tifffile.imwrite(target, image, compression="lzma", predictor=True)
            written.append(target)
    return written


def pack(out: Path, data: Path, budget_mib: float | None, tiny: bool,
         only: list[str] | None = None, scratch: Path = REPO / "build" / "gpu_scratch"
         ) -> dict:
    """Write the pack (CTC folders + ``jobs.json``) into `out`; returns its summary.

    `only` keeps these jobs (and those they are fine-tuned from)."""
    jobs = select(make_jobs(job_sources()), only)
    tree = tracked_mib()
    if budget_mib is None:
        budget_mib = TRANSFER_MIB - MARGIN_MIB - tree
    if budget_mib <= 0:
        raise SystemExit(f"the repository's tracked files take {tree:.1f} MiB of the "
                         f"{TRANSFER_MIB:.0f} MiB a device run carries: no room for training "
                         "data; ship smaller models or pass --budget-mib")
    needs: dict[tuple[str, str], dict] = {}
    simulated: dict[str, dict] = {}
    for job in jobs:
        truths = set(job["settings"].get("truth", "GT").split("+"))
        for name, sequences, recorded in job["data"]:
            settings = simulated_settings(name, recorded)
            if settings is not None:
                simulated[name] = settings
                continue
            folder = source_folder(data, name, sequences, recorded, scratch)
            for seq in sequences:
                need = needs.setdefault((name, seq), {"folder": folder, "truths": set(),
                                                      "markers": False, "window": 0})
                if need["folder"] != folder:
                    raise SystemExit(f"two jobs train on different folders for {name} {seq}: "
                                     f"{need['folder']} and {folder}")
                need["truths"] |= truths
                need["markers"] |= bool(job["config"].get("markers"))
                if job["config"].get("task") == "embedding":
                    need["window"] = max(need["window"], job["settings"].get("window", 3))
    if out.exists():
        shutil.rmtree(out)
    files = {key: sequence_files(n["folder"], key[1], n["truths"]) for key, n in needs.items()}
    plans = {key: frame_plan(files[key], key[1], n["markers"], n["window"])
             for key, n in needs.items()}
    if tiny:
        plans = {key: plan[:2] for key, plan in plans.items()}
    budget, used = budget_mib * 2 ** 20, 0
    packed: dict[tuple[str, str], list[int]] = {key: [] for key in plans}
    units_done = dict.fromkeys(plans, 0)
    open_keys = [key for key in plans if plans[key]]
    while open_keys:  # round robin: every sequence gains a unit in turn
        for key in list(open_keys):
            unit = [t for t in plans[key][units_done[key]] if t not in packed[key]]
            written = [path for t in unit for path in pack_frame(
                files[key], needs[key]["folder"], out / "data" / key[0], key[1], t)]
            size = sum(p.stat().st_size for p in written)
            if used + size > budget and packed[key]:  # the first unit always goes
                for path in written:
                    path.unlink()
                open_keys.remove(key)
                continue
            used += size
            packed[key] += unit
            units_done[key] += 1
            if units_done[key] == len(plans[key]):
                open_keys.remove(key)
    if used > budget:
        raise SystemExit(f"one frame of every sequence takes {used / 2 ** 20:.1f} MiB, more "
                         f"than the budget of {budget_mib:.1f} MiB")
    for (name, seq), n in needs.items():  # lineages, beside the markers
        track = n["folder"] / f"{seq}_GT" / "TRA" / "man_track.txt"
        if track.is_file():
            (out / "data" / name / f"{seq}_GT" / "TRA").mkdir(parents=True, exist_ok=True)
            shutil.copy(track, out / "data" / name / f"{seq}_GT" / "TRA" / track.name)
    for name, settings in simulated.items():
        (out / "data" / name).mkdir(parents=True, exist_ok=True)
        (out / "data" / name / "synth.json").write_text(json.dumps(settings, indent=1))
    summary = {"jobs": jobs, "simulated": sorted(simulated),
               "frames": {f"{n} {s}": sorted(v) for (n, s), v in packed.items()},
               "available": {f"{n} {s}": len({t for u in p for t in u})
                             for (n, s), p in plans.items()},
               "mib": round(used / 2 ** 20, 2), "budget_mib": round(budget_mib, 2),
               "tree_mib": round(tree, 2), "tiny": tiny}
    (out / "jobs.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


# --- train -----------------------------------------------------------------------------


def train_all(pack_dir: Path, out: Path, minutes: float, tiny: bool, device: str,
              batch_scale: int = 1) -> list[dict]:
    """Train every job of the pack; models go to ``out/work`` then into tar parts."""
    import torch

    from ctc.segmentation.data import Augment
    from ctc.segmentation.model import ModelConfig, resolve_device
    from ctc.segmentation.train import TrainConfig, train

    summary = json.loads((pack_dir / "jobs.json").read_text())
    jobs = summary["jobs"]
    dev = resolve_device(device)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    log_path = out / "log.jsonl"
    total = sum(j["weight"] for j in jobs)
    known = {f.name for f in fields(TrainConfig)}
    results = []

    def log(job: str, message: str) -> None:
        with open(log_path, "a") as f:
            f.write(json.dumps({"job": job, "time": time.strftime("%H:%M:%S"),
                                "message": message}) + "\n")
        print(f"[{job}] {message}", flush=True)

    for name in summary.get("simulated", []):
        simulate(pack_dir / "data" / name, tiny)
        log("batch", f"simulated {name}")
    log("batch", f"{len(jobs)} jobs on {dev}"
        + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")
        + f", {minutes} min; pack {summary['mib']} MiB" + (" (tiny)" if tiny else ""))
    for job in jobs:
        share = minutes * (1 - OVERHEAD) * job["weight"] / total
        values = {k: v for k, v in job["settings"].items() if k in known}
        values["augment"] = Augment(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in values.get("augment", {}).items()})
        values.update(device=str(dev), max_minutes=None if tiny else share,
                      batch=values.get("batch", 8) * batch_scale,
                      bf16=values.get("bf16", False) or dev.type == "cuda")
        if tiny:
            values.update(steps=2, crop=64, batch=2, val_every=1000, val_frames=0,
                          calibrate=False)
        else:  # the time share is the budget: a step count a CPU run recorded (for a
            values["steps"] = 10 ** 6  # comparison at equal steps) must not end it early
        data = [(pack_dir / "data" / name, seqs) for name, seqs, _ in job["data"]]
        init = work / job["init"] if job["init"] else None
        config = ModelConfig.from_dict(job["config"])
        start = time.perf_counter()
        done = train(config, data, work / job["name"], TrainConfig(**values), init=init,
                     progress=False, log=lambda m, name=job["name"]: log(name, str(m)))
        (work / job["name"] / "checkpoint.pt").unlink(missing_ok=True)
        row = {"job": job["name"], "steps": done.training.get("steps_done"),
               "minutes": round((time.perf_counter() - start) / 60, 2),
               "budget_minutes": round(share, 2), "scores": {
                   k: v for k, v in done.scores.items() if k in ("SEG", "DET", "step")}}
        log(job["name"], "done: " + json.dumps(row))
        results.append(row)
    write_parts(work, [j["name"] for j in jobs], out)
    shutil.rmtree(work)
    return results


def write_parts(work: Path, names: list[str], out: Path) -> list[Path]:
    """Tar the model folders into parts under :data:`PART_BYTES`, weights in half precision."""
    import torch

    from ctc.segmentation.model import half_precision

    parts: list[Path] = []
    tar, size = None, 0
    for name in names:
        state = torch.load(work / name / "weights.pt", map_location="cpu", weights_only=True)
        buffer = io.BytesIO()
        torch.save(half_precision(state), buffer)
        members = [(f"{name}/weights16.pt", buffer.getvalue()),
                   (f"{name}/config.json", (work / name / "config.json").read_bytes())]
        need = sum(len(b) for _, b in members) + 4096
        if tar is None or size + need > PART_BYTES:
            if tar is not None:
                tar.close()
            parts.append(out / f"models-{len(parts) + 1}.tar")
            tar, size = tarfile.open(parts[-1], "w"), 0
        for member, blob in members:
            info = tarfile.TarInfo(member)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        size += need
    if tar is not None:
        tar.close()
    if len(parts) + 1 > MAX_FILES:
        raise SystemExit(f"{len(parts)} tar parts and the log are more than the {MAX_FILES} "
                         "files a device run returns; train fewer jobs")
    return parts


# --- unpack ----------------------------------------------------------------------------


def unpack(source: Path, target: Path) -> list[str]:
    """Model folders (config.json, float32 weights.pt) from the tar parts in `source`."""
    import torch

    from ctc.segmentation.model import full_precision, load_model

    names = []
    for part in sorted(source.glob("models-*.tar")):
        with tarfile.open(part) as tar:
            for member in tar.getmembers():
                name, file = member.name.split("/", 1)
                if "/" in file or name in ("", ".", ".."):
                    raise SystemExit(f"{part}: unexpected member {member.name}")
                folder = target / name
                folder.mkdir(parents=True, exist_ok=True)
                blob = tar.extractfile(member).read()
                if file == "weights16.pt":
                    state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
                    torch.save(full_precision(state), folder / "weights.pt")
                    names.append(name)
                else:
                    (folder / file).write_bytes(blob)
    for name in names:
        load_model(target / name)  # the weights fit their configuration
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("pack", help="collect the training data of every job (here)")
    p.add_argument("--out", type=Path, default=REPO / "build" / "gpu_pack")
    p.add_argument("--data", type=Path,
                   default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    p.add_argument("--budget-mib", type=float,
                   help="compressed size of the pack (default: what the 64 MiB a device run "
                        "carries leave beside the tracked files)")
    p.add_argument("--tiny", action="store_true",
                   help="two frames (or frame runs) per sequence (tests)")
    p.add_argument("--only", metavar="LIST",
                   help="comma-separated jobs to pack (and those they are fine-tuned from)")
    p = sub.add_parser("train", help="train every job of a pack (on the device)")
    p.add_argument("--pack", type=Path, default=REPO / "build" / "gpu_pack")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=9.0, help="for all jobs together (9)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-scale", type=int, default=1,
                   help="multiply every job's minibatch (1; 4 suits a large GPU)")
    p.add_argument("--tiny", action="store_true", help="two steps per job, on any device")
    p = sub.add_parser("unpack", help="restore trained models from train's output")
    p.add_argument("--from", dest="source", type=Path, required=True)
    p.add_argument("--to", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "pack":
        summary = pack(args.out, args.data, args.budget_mib, args.tiny,
                       args.only.split(",") if args.only else None)
        print(f"{len(summary['jobs'])} jobs; {summary['mib']} MiB of {summary['budget_mib']} "
              f"MiB in {args.out}")
        for key, frames in summary["frames"].items():
            print(f"  {key:24s} {len(frames):4d} of {summary['available'][key]} frames")
    elif args.step == "train":
        if not (args.pack / "jobs.json").is_file():
            raise SystemExit(f"{args.pack}: no jobs.json; run 'pack' first")
        args.out.mkdir(parents=True, exist_ok=True)
        if args.batch_scale < 1:
            raise SystemExit("--batch-scale must be a whole number of at least 1")
        for row in train_all(args.pack, args.out, args.minutes, args.tiny, args.device,
                             args.batch_scale):
            print(json.dumps(row))
    else:
        for name in unpack(args.source, args.to):
            print(args.to / name)


if __name__ == "__main__":
    main()
