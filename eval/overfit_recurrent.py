"""Can each network fit one fixed example? A diagnosis of the recurrent networks.

At an 8-minute CPU budget GRUU-Net and the recurrent stacked hourglass (RSHN)
stay near SEG 0 in the cross-video protocol (README, "Architectures at an equal
budget"). Slow steps are one reason; another would be a network that cannot
learn at the settings it was given. This script separates the two: every
network is trained on the *same* window of frames every step (no augmentation,
no sampling noise) at several learning rates, and the SEG of its own output on
that window is measured after each stage. A network that fits a fixed example
in a few hundred steps at some learning rate can learn, and its cross-video
figures are a matter of steps; one that fails at every rate has a defect.

The example: a crop of consecutive frames of Fluo-N2DH-SIM+ 01 (every frame
segmented, track ids from the markers), the crop placed where the most cells
are. U-Net and GRUU-Net get the three-class target of the middle frame (GRUU-Net
its normalized focal loss, the U-Net weighted cross-entropy, as they train);
RSHN the whole window with its cosine-embedding loss, as it trains, scored on
the window's last frame by its mean-shift clustering. Instances of the class
networks: connected components of the cell class.

Usage::

    python eval/overfit_recurrent.py [--steps 120] [--crop 96] [--lrs 1e-4 5e-4 2e-3]
                                     [--archs unet gruunet rshn] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.segmentation.embedding import cluster_embeddings  # noqa: E402
from ctc.segmentation.gruunet import GRUUConfig  # noqa: E402
from ctc.segmentation.heldout import jaccard_sum  # noqa: E402
from ctc.segmentation.losses import make_loss  # noqa: E402
from ctc.segmentation.model import ModelConfig, build_net  # noqa: E402
from ctc.segmentation.nets import NetConfig  # noqa: E402
from ctc.segmentation.postprocess import instances  # noqa: E402
from ctc.segmentation.rshn import RSHNConfig  # noqa: E402
from ctc.segmentation.sequences import load_tracked_frames  # noqa: E402
from ctc.segmentation.targets import three_class_target  # noqa: E402
from ctc.segmentation.train import _embedding_loss  # noqa: E402

CONFIGS = {
    "unet": ModelConfig(net=NetConfig(base=16)),
    "gruunet": ModelConfig(arch="gruunet", net=GRUUConfig(), loss={"name": "nfl"}),
    "rshn": ModelConfig(arch="rshn", task="embedding", net=RSHNConfig()),
}


def busiest_crop(labels: np.ndarray, crop: int) -> tuple[int, int]:
    """Top-left corner of the crop (on a grid of crop/4) holding the most whole cells."""
    step = max(crop // 4, 1)
    best, corner = -1, (0, 0)
    for y in range(0, labels.shape[0] - crop + 1, step):
        for x in range(0, labels.shape[1] - crop + 1, step):
            window = labels[y:y + crop, x:x + crop]
            ids = np.unique(window[window > 0])
            edge = np.unique(np.concatenate([window[0], window[-1], window[:, 0],
                                             window[:, -1]]))
            whole = len(np.setdiff1d(ids, edge))
            if whole > best:
                best, corner = whole, (y, x)
    return corner


def seg_of(gold: np.ndarray, pred: np.ndarray) -> float:
    total, count = jaccard_sum(gold, pred)
    return total / count if count else float("nan")


def fit(arch: str, lr: float, steps: int, images: torch.Tensor, labels: np.ndarray,
        checkpoints: list[int]) -> list[dict]:
    """Train `arch` on the fixed window; SEG and loss at each checkpoint."""
    torch.manual_seed(0)
    config = CONFIGS[arch]
    net = build_net(config).train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    middle = len(images) // 2
    if arch == "rshn":
        track = torch.from_numpy(labels)
        full = torch.ones(len(images), dtype=torch.bool)

        def loss_of():
            return _embedding_loss(net, images, track, full, torch.device("cpu"))
    else:
        target = torch.from_numpy(three_class_target(labels[middle]).astype(np.int64))[None]
        loss_fn = make_loss(**config.loss)
        x = images[middle:middle + 1]

        def loss_of():
            return loss_fn(net(x), target)

    def score() -> float:
        net.eval()
        with torch.no_grad():
            if arch == "rshn":
                net.reset()
                for i in range(len(images)):
                    out = net(images[i:i + 1])[1][0].numpy()
                pred = cluster_embeddings(out, min_size=20)
                gold = labels[-1]
            else:
                prob = torch.softmax(net(images[middle:middle + 1])[0], 0).numpy()
                pred = instances(prob, config.task, min_size=20, method="components")
                gold = labels[middle]
        net.train()
        return seg_of(np.where(gold > 0, gold, 0), pred)

    rows, start, losses = [], time.perf_counter(), []
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if step in checkpoints:
            rows.append({"arch": arch, "lr": lr, "step": step,
                         "loss": float(np.mean(losses[-10:])), "first_loss": losses[0],
                         "SEG": score(), "seconds": time.perf_counter() - start})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--crop", type=int, default=96)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 5e-4, 2e-3])
    parser.add_argument("--archs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    frames = load_tracked_frames(args.data / "Fluo-N2DH-SIM+", "01",
                                 frames=set(range(10, 10 + args.window)))
    y, x = busiest_crop(frames[len(frames) // 2].labels, args.crop)
    crop = (slice(y, y + args.crop), slice(x, x + args.crop))
    images = torch.from_numpy(np.stack([f.image[crop] for f in frames]))[:, None].float()
    labels = np.stack([f.labels[crop] for f in frames])
    cells = len(np.unique(labels[len(frames) // 2][labels[len(frames) // 2] > 0]))
    print(f"Fluo-N2DH-SIM+ 01 frames {[f.t for f in frames]}, crop {args.crop} px at "
          f"({y}, {x}), {cells} cells in the middle frame", flush=True)
    checkpoints = sorted({args.steps // 4, args.steps // 2, args.steps})
    rows = []
    for arch in args.archs:
        for lr in args.lrs:
            rows += fit(arch, lr, args.steps, images, labels, checkpoints)
    print(f"\n{'arch':8s} {'lr':>7s} " + " ".join(f"SEG@{c:<4d}" for c in checkpoints)
          + "  loss first -> last")
    for arch in args.archs:
        for lr in args.lrs:
            mine = [r for r in rows if r["arch"] == arch and r["lr"] == lr]
            print(f"{arch:8s} {lr:7.0e} " + " ".join(f"{r['SEG']:8.3f}" for r in mine)
                  + f"  {mine[0]['first_loss']:.3f} -> {mine[-1]['loss']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
