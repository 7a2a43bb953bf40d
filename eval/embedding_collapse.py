"""Why the recurrent hourglass did not learn: three measurements of embedding collapse.

A diagnosis (issue 19, item 4), not a benchmark. Prints:

``labels``
    For each training sequence: how many frames have known background, and what
    a constant embedding (one direction for every pixel, the collapse) scores
    on 200 random training windows (3 frames, 128 px): the mean loss and the
    windows where it is zero. With the earlier frame-wide rule (``--frame-wide``:
    a frame with one cell the segmentation missed has no background at all) a
    collapse was nearly free on DIC-C2DH-HeLa; with the local unknown zone
    (``ctc.segmentation.sequences.track_labels``) it is not.
``init``
    The network's embedding at initialisation on a crop of a DIC-HeLa frame:
    the mean |cos| of each pixel's embedding to the mean direction (1 = every
    pixel the same direction), for PyTorch's default initialisation without
    normalisation (the earlier network), He initialisation without it, and the
    shipped setting (He + group normalisation).
``model PATH``
    A trained hourglass (a model folder, or its checkpoint where one is there) on
    held-out DIC-HeLa 01 frame 21: the embedding norm, cos^2 to the background
    direction on background and cell pixels, mean cos^2 within a cell and between
    cells' mean directions.

Usage::

    python eval/embedding_collapse.py labels [--frame-wide]
    python eval/embedding_collapse.py init
    python eval/embedding_collapse.py model RUNS/DIC-C2DH-HeLa-01-rshn
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.segmentation.embedding import cosine_embedding_loss  # noqa: E402
from ctc.segmentation.heldout import load_validation  # noqa: E402
from ctc.segmentation.model import load_model  # noqa: E402
from ctc.segmentation.rshn import RSHN, RSHNConfig  # noqa: E402
from ctc.segmentation.segment import embed  # noqa: E402
from ctc.segmentation.sequences import UNKNOWN, WindowSampler, load_tracked_frames  # noqa: E402

SEQUENCES = (("DIC-C2DH-HeLa", "01", "GT+ST"), ("DIC-C2DH-HeLa", "02", "GT+ST"),
             ("Fluo-N2DH-SIM+", "01", "GT"), ("Fluo-N2DH-SIM+", "02", "GT"))


def frame_wide(frames: list) -> None:
    """The earlier rule, in place: a frame with an unknown zone has no background."""
    for f in frames:
        if (f.labels == UNKNOWN).any():
            f.labels = np.where(f.labels == UNKNOWN, 0, f.labels)
            f.full = False


def labels(data: Path, earlier: bool, windows: int = 200) -> None:
    for name, sequence, truth in SEQUENCES:
        frames = load_tracked_frames(data / name, sequence, truth)
        if earlier:
            frame_wide(frames)
        sampler = WindowSampler(frames, 3, 128, np.random.default_rng(0))
        constant = torch.zeros(3, 16, 128, 128)
        constant[:, 1] = 1.0
        losses = [float(cosine_embedding_loss(constant, lab, full))
                  for _, lab, full in (sampler.window() for _ in range(windows))]
        print(f"{name} {sequence} ({truth}): {sum(f.full for f in frames)} of {len(frames)} "
              f"frames with known background; constant embedding: mean loss "
              f"{np.mean(losses):.3f}, zero loss in {sum(v < 1e-6 for v in losses)} of "
              f"{windows} windows")


def direction_spread(e: np.ndarray) -> float:
    """Mean |cos| of each pixel's embedding (d, H, W) to their mean direction."""
    flat = e.reshape(e.shape[0], -1)
    flat = flat / np.maximum(np.linalg.norm(flat, axis=0, keepdims=True), 1e-12)
    mean = flat.mean(1)
    return float(np.abs(mean / np.linalg.norm(mean) @ flat).mean())


def init(data: Path) -> None:
    image = load_validation(data / "DIC-C2DH-HeLa", "01", [21], "percentile")[0].image[:128, :128]
    for label, norm, default in (("default init, no normalisation (earlier)", "none", True),
                                 ("He init, no normalisation", "none", False),
                                 ("He init + group normalisation (shipped)", "group", False)):
        torch.manual_seed(0)
        net = RSHN(RSHNConfig(norm=norm))
        if default:
            for module in net.modules():
                if isinstance(module, torch.nn.Conv2d):
                    module.reset_parameters()
        with torch.no_grad():
            e = embed(net.eval(), image, torch.device("cpu"))
        print(f"{label}: mean |cos| to the mean direction {direction_spread(e):.4f}")


def model(data: Path, folder: Path) -> None:
    config, net = load_model(folder)
    checkpoint = folder / "checkpoint.pt"
    step = config.scores.get("step")
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        step = state["step"]
    frame = load_validation(data / "DIC-C2DH-HeLa", "01", [21], config.normalization)[0]
    with torch.no_grad():
        e = embed(net.eval(), frame.image, torch.device("cpu"))
    unit = e / np.maximum(np.linalg.norm(e, axis=0, keepdims=True), 1e-12)
    seg, to_bg = frame.seg, unit[0] ** 2
    ids = [i for i in np.unique(seg) if i > 0]
    means = [unit[:, seg == i].mean(1) for i in ids]
    means = [m / np.linalg.norm(m) for m in means]
    within = np.mean([((means[k] @ unit[:, seg == i]) ** 2).mean() for k, i in enumerate(ids)])
    between = np.mean([(means[a] @ means[b]) ** 2 for a in range(len(ids))
                       for b in range(len(ids)) if a != b])
    print(f"{folder.name} step {step}: norm {np.linalg.norm(e, axis=0).mean():.2f}, cos^2 to "
          f"the background direction {to_bg[seg == 0].mean():.3f} (background) / "
          f"{to_bg[seg > 0].mean():.3f} (cells), within a cell {within:.3f}, between cells "
          f"{between:.3f}, mean |cos| to the mean direction {direction_spread(e):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("labels", "init", "model"))
    parser.add_argument("folder", nargs="?", type=Path, help="model: the model folder")
    parser.add_argument("--frame-wide", action="store_true",
                        help="labels: the earlier rule (no background in a frame with a "
                             "missed cell)")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    if args.what == "labels":
        labels(args.data, args.frame_wide)
    elif args.what == "init":
        init(args.data)
    elif args.folder is None:
        parser.error("model needs the model folder")
    else:
        model(args.data, args.folder)


if __name__ == "__main__":
    main()
