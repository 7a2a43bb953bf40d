"""Training: per dataset or universal, validated with the toolkit's own SEG and DET.

One step draws a minibatch from every training set, weighs each set's loss
the same and steps the optimizer once (with one dataset this is plain
minibatch training; with several it is the universal-model scheme; a network
with batch normalisation sees the minibatches of all sets in one forward pass,
:func:`joint_step`, so its running statistics match training). AdamW
with cosine annealing and warm restarts. Held-out frames are segmented whole
every ``val_every`` steps and scored; the best model is written to the output
folder, and a checkpoint (model, optimizer, scheduler, random states) lets an
interrupted run continue with ``resume=True`` exactly where it stopped. At
the end the post-processing thresholds of the best model are calibrated on
the same held-out frames (:mod:`ctc.segmentation.calibrate`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ctc.errors import CTCInputError
from ctc.progress import progress_bar
from ctc.segmentation.calibrate import calibrate_frames, calibrate_saved_model
from ctc.segmentation.data import Augment, CropSampler, balanced_weights, load_samples
from ctc.segmentation.embedding import cosine_embedding_loss
from ctc.segmentation.heldout import (
    evaluate_frames,
    load_validation,
    score,
    training_frames,
    validation_frames,
)
from ctc.segmentation.losses import make_loss
from ctc.segmentation.model import (
    WEIGHTS_FILE,
    ModelConfig,
    build_net,
    load_config,
    load_model,
    resolve_device,
    save_model,
    write_config,
)
from ctc.segmentation.rshn import RSHN_LR
from ctc.segmentation.sequences import WindowSampler, load_tracked_frames
from ctc.segmentation.targets import IGNORE, MARKER_LEVELS

CHECKPOINT = "checkpoint.pt"
#: One JSON line per validation (step, loss, held-out SEG/DET, steps per second, best so
#: far, time): a run left in the background can be followed from another session.
PROGRESS_LOG = "progress.jsonl"
#: Folder of the weights kept at the end of every warm-restart cycle (``snapshots=True``)
SNAPSHOTS = "snapshots"
#: Ways validation segments the held-out frames (``TrainConfig.validation``).
VALIDATIONS = ("fixed", "calibrated")
#: Which validated weights may become the model (``TrainConfig.select``).
SELECTIONS = ("any", "restarts")


@dataclass
class TrainConfig:
    """Optimisation settings (see the module docstring)."""

    #: batch, lr, restart and val_every: the recipe of every shipped per-dataset model
    #: (``eval/cross_video.py``). With the size floor of calibration, 15 minutes on
    #: DIC-HeLa 02 score SEG 0.814 / TRA 0.919 on 01; the earlier defaults (batch 8, lr
    #: 1e-3, restarts every 500 steps) 0.587 / 0.712 (README, the default recipe)
    steps: int = 2000
    batch: int = 6
    crop: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    restart: int = 400
    val_every: int = 50
    val_frames: int = 3
    seed: int = 0
    truth: str = "GT"
    augment: Augment = field(default_factory=Augment)
    device: str = "auto"
    max_minutes: float | None = None
    window: int = 3
    calibrate: bool = True
    #: bfloat16 autocast for the forward pass (the weights, gradients and optimiser stay
    #: float32); pays off on CPUs with AVX512-BF16 or AMX and on GPUs
    bf16: bool = False
    #: channels-last tensors for the U-Net family: the same arithmetic, faster on CPU
    channels_last: bool = True
    #: with several datasets, one forward pass over the minibatches of all of them
    #: (:func:`joint_step`) instead of one per dataset (:func:`accumulated_step`). The
    #: gradients are the same but for batch normalisation, whose running statistics are
    #: then the mixture they are used with at inference; per-dataset forwards left them a
    #: blend no training batch had, and a model that read DIC-HeLa as one cell
    joint: bool = True
    #: keep the weights at the end of every warm-restart cycle, where the learning rate
    #: is lowest, as ``snapshots/step-NNNNNN.pt``: what a long run learnt over time, and
    #: the members of a snapshot ensemble
    snapshots: bool = False
    #: how validation segments the held-out frames to rank checkpoints: "fixed", with the
    #: model's configured post-processing (cell components before calibration, which
    #: merges DIC-HeLa's touching cells: held-out SEG 0.48 where the calibrated watershed
    #: of the same weights gives 0.84), or "calibrated", with the best setting of the
    #: calibration grid (:func:`validation_scores`), the way the model will be used
    validation: str = "fixed"
    #: which weights may become the model: "any" validated step, or only the "restarts",
    #: the ends of the warm-restart cycles, where the learning rate is lowest (weights
    #: from the middle of a cycle, taken at a high learning rate, scored well on the
    #: held-out frames and poorly on the other sequence in the long DIC-HeLa runs of
    #: ``eval/learning_curve.py``; README). Not the default, nor is ``validation=
    #: "calibrated"``: together they lost twice and gained once on runs they were not
    #: drawn from (Fluo-N2DH-SIM+ both ways, the 15-minute DIC-HeLa recipe; README)
    select: str = "any"

    def __post_init__(self):
        positive = {"steps": self.steps, "batch": self.batch, "crop": self.crop,
                    "restart": self.restart, "val_every": self.val_every,
                    "window": self.window}
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.crop < 16:
            raise ValueError(f"crop must be at least 16 pixels, got {self.crop}")
        if self.val_frames < 0:
            raise ValueError(f"val_frames must be 0 or more, got {self.val_frames}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be 0 or more, got {self.weight_decay}")
        if self.max_minutes is not None and not (math.isfinite(self.max_minutes)
                                                 and self.max_minutes > 0):
            raise ValueError(f"the time budget must be a positive number of minutes, got "
                             f"{self.max_minutes}")
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {SELECTIONS}, got {self.select!r}")
        if self.validation not in VALIDATIONS:
            raise ValueError(f"validation must be one of {VALIDATIONS}, got {self.validation!r}")
        if self.truth not in ("GT", "ST", "GT+ST"):
            raise ValueError(f"truth must be GT, ST or GT+ST, got {self.truth!r}")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["augment"] = self.augment.to_dict()
        return out


def _save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def snapshot_path(model_dir: str | Path, step: int) -> Path:
    """Where training kept the weights of `step` (see ``TrainConfig.snapshots``)."""
    return Path(model_dir) / SNAPSHOTS / f"step-{step:06d}.pt"


def _log_progress(path: Path, history: list[dict], best: float) -> None:
    """Append the latest validation to the progress log, right after the checkpoint it
    describes (a resumed run goes on from that checkpoint, so no step appears twice)."""
    now, before = history[-1], (history[-2] if len(history) > 1 else {"step": 0, "minutes": 0})
    seconds = 60 * (now["minutes"] - before["minutes"])
    line = {**now, "steps_per_second": (now["step"] - before["step"]) / max(seconds, 1e-9),
            "best": best, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


def _task_loss(config: ModelConfig, loss_fn, logits, target, extra) -> torch.Tensor:
    """Class loss plus, for a fourth channel, binary cross-entropy with its target.

    The target is the foreground (0/1, border task) or the marker centre-ness
    (a soft target in [0, 1]). Crops of marker-only frames have no class
    target at all; they add only the marker term.
    """
    known = target != IGNORE
    loss = (loss_fn(logits[:, :3], target) if bool(known.any())
            else logits[:, :3].sum() * 0.0)
    if extra is not None:
        valid = extra != IGNORE
        if bool(valid.any()):
            goal = extra[valid].float() / (MARKER_LEVELS if config.markers else 1)
            loss = loss + F.binary_cross_entropy_with_logits(logits[:, 3][valid], goal)
    return loss


def default_lr(arch: str) -> float:
    """The learning rate a network trains at unless told otherwise: :data:`TrainConfig.lr`,
    or :data:`ctc.segmentation.rshn.RSHN_LR` for the recurrent hourglass."""
    return RSHN_LR if arch == "rshn" else TrainConfig.lr


def validation_scores(net, frames: list, config: ModelConfig, device, how: str = "fixed"
                      ) -> dict:
    """Held-out SEG (and DET) of the network, to rank checkpoints by.

    ``"fixed"``: with the post-processing `config` holds. ``"calibrated"``: with
    the best setting of the calibration grid (:func:`calibrate_frames`, without
    the clump split), so a checkpoint is ranked by what its calibrated
    post-processing will make of it. Embedding models always use the best
    mean-shift bandwidth: at the default one an embedding still learning to make
    a cell's pixels point one way scores near 0, so the ranking chose nothing.
    """
    if how == "fixed" and config.task != "embedding":
        return evaluate_frames(net, frames, config, device)
    best = calibrate_frames(net, config, frames, device, tolerance=0.0)[0]
    return {k: best[k] for k in ("SEG", "DET") if k in best}


def _embedding_loss(net, images, labels, full, device) -> torch.Tensor:
    """Cosine embedding loss of both hourglasses over a window, states reset first."""
    net.reset()
    outputs = [net(images[i:i + 1].to(device)) for i in range(len(images))]
    labels = labels.to(device)
    return sum(cosine_embedding_loss(torch.cat([o[k] for o in outputs]), labels, full)
               for k in (0, 1))


def accumulated_step(optimizer: torch.optim.Optimizer, samplers: list,
                     sampler_loss) -> float:
    """One optimiser step over a round of datasets: one minibatch from each sampler.

    The gradients of the per-dataset losses are accumulated, each weighted
    1 / len(samplers), so every dataset counts the same however many images it
    has; then the optimiser steps once.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    samplers : list
        One sampler per dataset.
    sampler_loss : callable
        ``sampler -> loss tensor`` of one minibatch drawn from that sampler.

    Returns
    -------
    float
        The mean of the per-dataset losses.
    """
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for sampler in samplers:
        loss = sampler_loss(sampler)
        (loss / len(samplers)).backward()
        total += float(loss.detach()) / len(samplers)
    optimizer.step()
    return total


def joint_step(optimizer: torch.optim.Optimizer, samplers: list, round_losses) -> float:
    """One optimiser step over a round of datasets, all of them in one forward pass.

    The same weighting as :func:`accumulated_step`: the mean of the per-dataset
    losses, each dataset 1 / len(samplers) however many images it has.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    samplers : list
        One sampler per dataset.
    round_losses : callable
        ``samplers -> list of loss tensors``, one per sampler, from one minibatch of
        each passed through the network together.

    Returns
    -------
    float
        The mean of the per-dataset losses.
    """
    optimizer.zero_grad(set_to_none=True)
    losses = round_losses(samplers)
    if len(losses) != len(samplers):
        raise ValueError(f"{len(losses)} losses for {len(samplers)} datasets")
    loss = torch.stack(losses).mean()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def has_batch_norm(net: torch.nn.Module) -> bool:
    """Whether any layer of `net` normalises with batch statistics."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())


def training_datasets(config: ModelConfig) -> list[str]:
    """Every dataset folder a model learnt from: its own training data and, for a
    fine-tuned model, the data of the model it started from."""
    own = [str(folder) for folder, _ in config.training.get("data", [])]
    return sorted(set(own) | set(config.training.get("pretrained_on", [])))


def _initialise(net: torch.nn.Module, config: ModelConfig, init: str | Path) -> list[str]:
    """Load the weights of model folder `init` into `net`; returns its training data."""
    start, trained = load_model(init)
    if (start.arch, start.net, start.task, start.markers, start.markers_from) != (
            config.arch, config.net, config.task, config.markers, config.markers_from):
        raise CTCInputError("the model to start from has another network or targets than the "
                            "one to train; give the same architecture, or none (--init "
                            "alone takes the model's)", init)
    net.load_state_dict(trained.state_dict())
    return training_datasets(start)


def sequence_truth(dataset_dir: Path, sequence: str, truth: str, n_datasets: int,
                   log=print) -> str:
    """The annotations to learn from in one sequence.

    Universal training with gold and silver truth (allGT+allST) takes the
    silver truth that exists: a sequence without ``_ST`` contributes its gold
    truth alone (said in the log). For one dataset a missing ``_ST`` stays an
    error (the loader names the folder).
    """
    if truth == "GT+ST" and n_datasets > 1 and not (dataset_dir / f"{sequence}_ST").is_dir():
        log(f"{dataset_dir.name} {sequence}: no silver truth ({sequence}_ST); gold truth only")
        return "GT"
    return truth


def train(config: ModelConfig, data: list[tuple[str | Path, list[str]]], out_dir: str | Path,
          settings: TrainConfig | None = None, *, resume: bool = False,
          init: str | Path | None = None, progress: bool = True, log=print) -> ModelConfig:
    """Train a model and write it (config.json + weights.pt of the best validation) to `out_dir`.

    Parameters
    ----------
    config : ModelConfig
        Architecture, targets, loss, normalisation, post-processing.
    data : list of (dataset folder, sequences)
        One entry per dataset; several entries train a universal model.
    out_dir : path
        Model folder; also holds ``checkpoint.pt`` while training.
    settings : TrainConfig
    resume : bool
        Continue the run whose checkpoint is in `out_dir`.
    init : path, optional
        A trained model folder to start from (fine-tuning); its network must be
        the one `config` describes. Its training data are recorded as
        ``training["pretrained_on"]``.
    """
    settings = settings or TrainConfig()
    if config.ensemble:
        raise ValueError("an ensemble is assembled from the snapshots of a run "
                         "(ctc.segmentation.averaging.snapshot_ensemble), not trained")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CTCInputError("exists and is not a folder; choose a new model folder (--out)",
                            out)
    created = [p for p in (out, *out.parents) if not p.exists()]  # innermost first
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _train(config, data, out, settings, resume=resume, init=init,
                      progress=progress, log=log)
    except BaseException:
        for folder in created:  # a run that failed before writing anything leaves no folder
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def _train(config: ModelConfig, data: list[tuple[str | Path, list[str]]], out: Path,
           settings: TrainConfig, *, resume: bool, init: str | Path | None, progress: bool,
           log) -> ModelConfig:
    ckpt_path = out / CHECKPOINT
    if ckpt_path.exists() and not resume:
        raise CTCInputError("a training checkpoint exists here; continue it with --resume "
                            "or choose another output folder", ckpt_path)
    if resume and not ckpt_path.exists():
        raise CTCInputError("nothing to resume: no checkpoint.pt", out)
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    samplers, val = [], []
    for dataset_dir, sequences in data:
        dataset_dir = Path(dataset_dir)
        samples = []
        for seq in sequences:
            held = validation_frames(dataset_dir, seq, settings.val_frames)
            val += load_validation(dataset_dir, seq, held, config.normalization)
            keep = training_frames(dataset_dir, seq, held)
            truth = sequence_truth(dataset_dir, seq, settings.truth, len(data), log)
            if config.task == "embedding":
                samples += load_tracked_frames(dataset_dir, seq, truth,
                                               normalization=config.normalization, frames=keep)
            else:
                samples += load_samples(dataset_dir, seq, truth, task=config.task,
                                        iterations=config.iterations,
                                        normalization=config.normalization,
                                        markers=config.markers, frames=keep,
                                        context=config.context,
                                        markers_from=config.markers_from)
        if config.task == "embedding":
            samplers.append(WindowSampler(samples, settings.window, settings.crop, rng,
                                          settings.augment))
        else:
            samplers.append(CropSampler(samples, settings.crop, rng, settings.augment,
                                        weights=balanced_weights(samples)
                                        if config.markers else None))
        marker_only = 0 if config.task == "embedding" else sum(not s.annotated
                                                               for s in samples)
        log(f"{dataset_dir.name} {'+'.join(sequences)}: {len(samples)} training images"
            + (f" ({marker_only} with tracking markers only)" if marker_only else ""))
    # channels-last: the same arithmetic, about 1.25x the steps per second on CPU (oneDNN)
    layout = (torch.channels_last if settings.channels_last and config.task != "embedding"
              else torch.contiguous_format)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if settings.bf16
                else contextlib.nullcontext())
    net = build_net(config)
    pretrained_on = _initialise(net, config, init) if init is not None else None
    net = net.to(device, memory_format=layout)
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.lr,
                                  weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer,
                                                                     T_0=settings.restart)
    loss_fn = make_loss(**config.loss) if config.task != "embedding" else None
    step, best, elapsed, history = 0, -math.inf, 0.0, []
    if resume:
        try:
            state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
            net.load_state_dict(state["net"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            step, best, elapsed, history = (state["step"], state["best"], state["elapsed"],
                                            state["history"])
            rng.bit_generator.state = state["numpy_rng"]
            torch.set_rng_state(state["torch_rng"])
        except Exception as exc:  # torch.load raises many types on a damaged file
            raise CTCInputError(f"cannot resume from this checkpoint ({type(exc).__name__}: "
                                f"{exc}); it is damaged or from another model",
                                ckpt_path) from None
        log(f"resumed at step {step} (best validation {best:.4f})")
    config.training = {"data": [[str(d), list(s)] for d, s in data],
                       **settings.to_dict(), "device": str(device)}
    if pretrained_on is not None:
        config.training.update(init=str(init), pretrained_on=pretrained_on)
    joint = (settings.joint and len(samplers) > 1 and config.task != "embedding"
             and has_batch_norm(net))
    if joint:
        log(f"one forward pass per step over the {len(samplers)} datasets' minibatches")
    start = time.perf_counter() - elapsed
    bar = progress_bar(total=settings.steps, initial=step, desc="training", unit="step",
                       enabled=progress)
    last_val = {}
    while step < settings.steps:
        net.train()

        def sampler_loss(sampler) -> torch.Tensor:
            if config.task == "embedding":
                with autocast:
                    return _embedding_loss(net, *sampler.window(), device).float()
            x, y, f = sampler.batch(settings.batch)
            with autocast:
                logits = net(x.to(device, memory_format=layout))
            return _task_loss(config, loss_fn, logits.float(), y.to(device),
                              None if f is None else f.to(device))

        def round_losses(samplers) -> list[torch.Tensor]:
            drawn = [sampler.batch(settings.batch) for sampler in samplers]
            x = torch.cat([d[0] for d in drawn]).to(device, memory_format=layout)
            with autocast:
                logits = net(x).float()
            losses, start = [], 0
            for xb, y, f in drawn:
                part = logits[start:start + len(xb)]
                start += len(xb)
                losses.append(_task_loss(config, loss_fn, part, y.to(device),
                                         None if f is None else f.to(device)))
            return losses

        if joint:
            total = joint_step(optimizer, samplers, round_losses)
        else:
            total = accumulated_step(optimizer, samplers, sampler_loss)
        scheduler.step()
        step += 1
        cycle_end = step % settings.restart == 0
        if settings.snapshots and cycle_end:
            _save_checkpoint(snapshot_path(out, step), net.state_dict())
        out_of_time = (settings.max_minutes is not None
                       and time.perf_counter() - start > 60 * settings.max_minutes)
        if (step % settings.val_every == 0 or step == settings.steps or out_of_time
                or (settings.select == "restarts" and cycle_end)):
            last_val = (validation_scores(net, val, config, device, settings.validation)
                        if val else {})
            value = score(last_val) if val else -float(total)
            history.append({"step": step, "loss": total, **last_val,
                            "minutes": (time.perf_counter() - start) / 60})
            if value > best and (settings.select == "any" or cycle_end):
                best = value
                config.scores = {"validation": last_val, "step": step,
                                 "training_minutes": (time.perf_counter() - start) / 60}
                save_model(out, config, net)
            _save_checkpoint(ckpt_path, {
                "net": net.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step, "best": best,
                "elapsed": time.perf_counter() - start, "history": history,
                "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()})
            _log_progress(out / PROGRESS_LOG, history, best)
        bar.update()
        bar.set_postfix(loss=f"{total:.3f}", **{k: f"{v:.3f}" for k, v in last_val.items()})
        if out_of_time:
            log(f"time budget of {settings.max_minutes} min reached at step {step}")
            break
    bar.close()
    config.training["steps_done"] = step
    config.training["minutes"] = (time.perf_counter() - start) / 60
    config.training["history"] = history
    if not (out / WEIGHTS_FILE).exists():
        save_model(out, config, net)
    else:  # the best weights stay; their config records the finished run
        best_config = load_config(out)
        best_config.training = config.training
        write_config(out, best_config)
        config = best_config
    if settings.calibrate and val:  # thresholds, or an embedding's mean-shift bandwidth
        config = calibrate_saved_model(out, val, device, data=data, log=log, progress=progress)
    return config
