"""Snapshot ensembles: one model that averages the predictions of several networks.

A run with warm restarts ends every cycle in a different low-loss region;
the snapshots taken there disagree where the data leave the answer open, so
the mean of their probabilities is better calibrated than any one of them
(Huang et al., "Snapshot ensembles: train 1, get M for free", 2017). Unlike
averaging the snapshots' weights (:mod:`ctc.segmentation.averaging`), this
needs no batch-norm statistics measured again, and costs one forward pass per
member at inference.

An ensemble is an ordinary model folder whose ``config.json`` says
``"ensemble": M`` and whose ``weights.pt`` holds the members' weights, so
calibration, ``ctc segment`` and ``ctc run`` use it unchanged.
"""

from __future__ import annotations

import torch

from ctc.segmentation.infer import activate, scores_of


class Ensemble(torch.nn.Module):
    """Networks of one architecture whose output is the mean of their probabilities.

    `forward` returns channel scores (:func:`ctc.segmentation.infer.scores_of`)
    whose :func:`~ctc.segmentation.infer.activate` is the members' mean
    probability, so the ensemble stands wherever one network's scores do.
    """

    def __init__(self, members: list[torch.nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prob = sum(activate(member(x)) for member in self.members) / len(self.members)
        return scores_of(prob)
