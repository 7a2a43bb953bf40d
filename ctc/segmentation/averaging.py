"""Snapshot averaging and ensembles: one model from several points of one run.

Training with warm restarts visits a low-loss region at the end of every cycle;
averaging those snapshots' weights (stochastic weight averaging) gives one
network, as fast as any, that often generalises better than each. Batch
normalisation statistics do not average: they are measured again on training
crops after the weights are averaged. A snapshot ensemble
(:class:`ctc.segmentation.ensemble.Ensemble`) keeps the networks apart and
averages their predictions instead.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ctc.errors import CTCInputError
from ctc.segmentation.data import Augment, CropSampler, load_samples
from ctc.segmentation.heldout import training_frames, validation_frames
from ctc.segmentation.model import ModelConfig, build_net


def load_snapshot(path: str | Path) -> dict:
    """The state dict of one snapshot (``ctc.segmentation.train.snapshot_path``)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types on a damaged file
        raise CTCInputError(f"unreadable snapshot ({type(exc).__name__}: {exc})",
                            path) from None


def average_states(states: list[dict]) -> dict:
    """The mean of state dicts of one network (floating-point tensors; integer ones,
    such as batch-norm counters, from the last)."""
    if not states:
        raise ValueError("no weights to average")
    keys = set(states[0])
    if any(set(s) != keys for s in states):
        raise ValueError("the snapshots are of different networks")
    return {k: (torch.stack([s[k].float() for s in states]).mean(0).to(states[0][k].dtype)
                if states[0][k].is_floating_point() else states[-1][k]) for k in states[0]}


def snapshot_ensemble(config: ModelConfig, snapshot_files: list[Path]
                      ) -> tuple[ModelConfig, torch.nn.Module]:
    """The ensemble of `snapshot_files` (snapshots of one run of `config`): its
    configuration (``ensemble`` = the number of members) and network, in eval mode."""
    if not snapshot_files:
        raise ValueError("no snapshots to put in an ensemble")
    ensemble_config = replace(config, ensemble=len(snapshot_files))
    net = build_net(ensemble_config)
    for member, path in zip(net.members, snapshot_files, strict=True):
        member.load_state_dict(load_snapshot(path))
    return ensemble_config, net.eval()


@torch.no_grad()
def recompute_batch_norm(net: torch.nn.Module, batches) -> int:
    """Measure `net`'s batch-norm running statistics again, as the plain mean over
    `batches` (an iterable of input tensors); returns the number of batches used.

    Networks without batch normalisation are left as they are (0)."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    was_training = net.training
    net.train()
    used = 0
    for x in batches:
        net(x)
        used += 1
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    net.train(was_training)
    return used


def averaged_network(config: ModelConfig, snapshot_files: list[Path], *, batches: int = 50,
                     batch: int | None = None, crop: int | None = None,
                     seed: int = 0) -> torch.nn.Module:
    """The network of `config` with the mean weights of `snapshot_files`, its batch-norm
    statistics measured on `batches` minibatches of the model's own training data
    (``config.training``: data, truth, crop, batch and augmentation of the run).

    Returns the network in eval mode on the CPU.
    """
    net = build_net(config)
    net.load_state_dict(average_states([load_snapshot(path) for path in snapshot_files]))
    training = config.training
    augment = Augment(**{k: tuple(v) if isinstance(v, list) else v
                         for k, v in training.get("augment", {}).items()})
    samples = []
    for dataset_dir, sequences in training["data"]:
        for seq in sequences:
            # the frames training held out stay out: calibration chooses on them next
            held = validation_frames(Path(dataset_dir), seq, training.get("val_frames", 0))
            keep = training_frames(Path(dataset_dir), seq, held)
            samples += load_samples(dataset_dir, seq, training.get("truth", "GT"),
                                    task=config.task, iterations=config.iterations,
                                    normalization=config.normalization,
                                    markers=config.markers, context=config.context,
                                    markers_from=config.markers_from, frames=keep)
    sampler = CropSampler(samples, crop or training.get("crop", 256),
                          np.random.default_rng(seed), augment)
    size = batch or training.get("batch", 6)
    recompute_batch_norm(net, (sampler.batch(size)[0] for _ in range(batches)))
    return net.eval()
