"""One normalised image -> instance labels, for every model family.

Shared by training-time validation and by the pipeline.
"""

from __future__ import annotations

import numpy as np
import torch

from ctc.errors import CTCInputError
from ctc.segmentation.embedding import cluster_embeddings
from ctc.segmentation.infer import predict_frame, tile_starts
from ctc.segmentation.losses import class_weights
from ctc.segmentation.model import ModelConfig
from ctc.segmentation.postprocess import THRESHOLD_KEYS, instances


@torch.no_grad()
def embed(net, image: np.ndarray, device) -> np.ndarray:
    """Second-hourglass embeddings (d, H, W) of one image, from a fresh recurrent state."""
    net.reset()
    x = torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None].to(device)
    return net(x)[1][0].cpu().numpy()


def stitch_tiles(tiles: list[tuple[int, int, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """Assemble instance labels predicted tile by tile.

    Instances touching a tile border inside the image are discarded (another
    tile sees them whole); of instances found by several tiles, the largest
    is kept.
    """
    found = []
    for y0, x0, labels in tiles:
        h, w = labels.shape
        inner = np.zeros_like(labels, bool)
        if y0 > 0:
            inner[0] = True
        if x0 > 0:
            inner[:, 0] = True
        if y0 + h < shape[0]:
            inner[-1] = True
        if x0 + w < shape[1]:
            inner[:, -1] = True
        cut = set(np.unique(labels[inner]).tolist())
        for label in np.unique(labels[labels > 0]).tolist():
            if label not in cut:
                ys, xs = np.nonzero(labels == label)
                found.append((len(ys), ys + y0, xs + x0))
    out = np.zeros(shape, np.uint16)
    next_label = 1
    for size, ys, xs in sorted(found, key=lambda f: -f[0]):
        if np.count_nonzero(out[ys, xs]) > 0.5 * size:
            continue  # a duplicate of a larger instance already placed
        free = out[ys, xs] == 0
        out[ys[free], xs[free]] = next_label
        next_label += 1
    return out


def embed_tiles(net, image: np.ndarray, post: dict, device
                ) -> list[tuple[int, int, np.ndarray]]:
    """(y, x, embeddings) of the tiles of a 2D image (``post``: tile size and overlap)."""
    tile = post.get("tile", 512)
    h, w = image.shape
    th, tw = min(tile, h), min(tile, w)
    overlap = post.get("overlap", 64)
    return [(y, x, embed(net, image[y:y + th, x:x + tw], device))
            for y in tile_starts(h, th, overlap) for x in tile_starts(w, tw, overlap)]


def cluster_tiles(tiles: list[tuple[int, int, np.ndarray]], shape: tuple[int, int],
                  post: dict) -> np.ndarray:
    """Instance labels from :func:`embed_tiles` by mean shift (``post``: bandwidth,
    coordinate scale, smallest object), tile by tile, stitched."""
    labels = [(y, x, cluster_embeddings(emb, min_size=post.get("min_size", 20),
                                        bandwidth=post.get("bandwidth", 0.1),
                                        coord_scale=post.get("coord_scale", 0.002)))
              for y, x, emb in tiles]
    return labels[0][2] if len(labels) == 1 else stitch_tiles(labels, shape)


def segment_image(net, config: ModelConfig, image: np.ndarray, device, *,
                  tta: str | None = None, spacing: tuple[float, ...] | None = None
                  ) -> np.ndarray:
    """Instance labels of a normalised 2D image or 3D volume for any model.

    A 3D volume (Z, Y, X) is predicted slice by slice by the 2D network; the
    class probabilities are stacked into a volume and only then turned into
    instances, so each label is one body connected across slices. `spacing`
    is the voxel size (z, y, x) relative to x, for distances in 3D.
    """
    post = config.postprocess
    if image.ndim == 3:
        if config.task == "embedding":
            raise CTCInputError("the recurrent hourglass (rshn) segments 2D frames only; use "
                                "a U-Net-family model for 3D volumes")
        prob = predict_frame(net, image, tile=post.get("tile", 512), context=config.context,
                             overlap=post.get("overlap", 64), tta=tta, device=device)
        return probabilities_to_instances(prob, config, image, spacing=spacing, overwrite=True)
    if config.task == "embedding":
        return cluster_tiles(embed_tiles(net, image, post, device), image.shape, post)
    prob = predict_frame(net, image, tile=post.get("tile", 512), context=config.context,
                         overlap=post.get("overlap", 64), tta=tta, device=device)
    return probabilities_to_instances(prob, config, image, overwrite=True)


def probabilities_to_instances(prob: np.ndarray, config: ModelConfig,
                               image: np.ndarray | None = None, *,
                               spacing: tuple[float, ...] | None = None,
                               overwrite: bool = False, **override) -> np.ndarray:
    """Instance labels from a model's probabilities with its post-processing settings.

    `image` is the normalised image the probabilities came from (needed by the
    ``refine`` setting); `spacing` the voxel size of 3D probabilities relative
    to x; `override` replaces settings of ``config.postprocess`` (threshold
    calibration); `overwrite`: `prob` may be changed (:func:`instances`).
    """
    post = {**config.postprocess, **override}
    thresholds = {k: post[k] for k in THRESHOLD_KEYS if k in post}
    return instances(prob, config.task, iterations=config.iterations,
                     min_size=post.get("min_size", 20), fill_holes=post.get("fill_holes", True),
                     class_weights=class_weights(config.loss), image=image,
                     spacing=spacing, overwrite=overwrite, **thresholds)
