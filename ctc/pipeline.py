"""Raw frames -> segmentation -> tracking -> validated CTC result, streamed frame by frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctc.io.naming import RAW_PREFIX, find_frames
from ctc.io.res_writer import ResultWriter
from ctc.io.tiff import read_frame
from ctc.segmentation.data import sequence_normalization
from ctc.segmentation.infer import predict_image, predict_volume
from ctc.segmentation.losses import class_weights
from ctc.segmentation.model import load_config, load_model, resolve_device
from ctc.segmentation.postprocess import instances
from ctc.tracking import TrackingConfig, track_to_result
from ctc.validation import ValidationReport, validate_result


def segment_frames(model_dir: str | Path, raw_dir: str | Path, *, device: str = "auto",
                   progress: bool = False) -> Iterator[np.ndarray]:
    """Instance masks of the frames of `raw_dir`, one at a time (2D or 3D).

    The sequence's intensity normalisation is computed first from a sample of
    its frames; then each frame is read, predicted (tiled, with the model's
    test-time augmentation) and post-processed, and released.
    """
    dev = resolve_device(device)
    config, net = load_model(model_dir, dev)
    post = config.postprocess
    norm = sequence_normalization(raw_dir, config.normalization)
    files = find_frames(raw_dir, RAW_PREFIX)
    kwargs = dict(tile=post.get("tile", 512), overlap=post.get("overlap", 64),
                  tta=post.get("tta", "flips"), device=dev)
    for t in tqdm(files.frames, desc="segmenting", unit="frame", disable=not progress,
                  leave=False):
        image = norm(read_frame(files.paths[t]))
        prob = (predict_volume if image.ndim == 3 else predict_image)(net, image, **kwargs)
        yield instances(prob, config.task, iterations=config.iterations,
                        min_size=post.get("min_size", 20),
                        fill_holes=post.get("fill_holes", True),
                        class_weights=class_weights(config.loss))


def segment_folder(model_dir: str | Path, raw_dir: str | Path, out_dir: str | Path, *,
                   device: str = "auto", overwrite: bool = False,
                   progress: bool = False) -> int:
    """Write the (untracked) instance masks of a raw sequence as ``maskTTT.tif``; returns frames."""
    files = find_frames(raw_dir, RAW_PREFIX)
    with ResultWriter(out_dir, digits=files.digits, n_frames=len(files), overwrite=overwrite,
                      require_tracks=False) as writer:
        for t, mask in zip(files.frames, segment_frames(model_dir, raw_dir, device=device,
                                                          progress=progress), strict=True):
            writer.write_mask(t, mask)
    return len(files)


def run_sequence(dataset_dir: str | Path, sequence: str, model_dir: str | Path, *,
                 out_dir: str | Path | None = None, device: str = "auto",
                 overwrite: bool = False, progress: bool = False) -> ValidationReport:
    """Segment and track ``DATASET/SEQ`` into ``DATASET/SEQ_RES`` (or `out_dir`), validated.

    The tracking parameters come from the model's configuration.
    """
    dataset = Path(dataset_dir)
    raw = dataset / sequence
    target = Path(out_dir) if out_dir is not None else dataset / f"{sequence}_RES"
    tracking = TrackingConfig.from_dict(load_config(model_dir).tracking)
    masks = segment_frames(model_dir, raw, device=device, progress=progress)
    track_to_result(masks, target, tracking, overwrite=overwrite, progress=progress)
    return validate_result(target, n_frames=len(find_frames(raw, RAW_PREFIX)))
