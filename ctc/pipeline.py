"""Raw frames -> segmentation -> tracking -> validated CTC result, streamed frame by frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ctc.datasets import relative_spacing
from ctc.errors import CTCInputError
from ctc.io.naming import RAW_PREFIX, FrameFiles, find_frames
from ctc.io.res_writer import ResultWriter
from ctc.io.tiff import read_frame
from ctc.perturb import LabeledSequence
from ctc.progress import track_progress
from ctc.segmentation.data import sequence_normalization
from ctc.segmentation.embedding import cluster_embeddings, link_frame_pair
from ctc.segmentation.model import load_config, load_model, resolve_device
from ctc.segmentation.segment import embed, segment_image
from ctc.tracking import TrackingConfig, track_to_result
from ctc.validation import ValidationReport, format_ranges, validate_result


def raw_frames(raw_dir: str | Path) -> FrameFiles:
    """The ``tTTT.tif`` frames of a raw sequence, refusing a sequence with missing frames.

    A result needs one mask per frame, numbered as the raw frames are; a gap
    would shift every later frame.
    """
    files = find_frames(raw_dir, RAW_PREFIX)
    missing = files.missing_frames()
    if missing:
        raise CTCInputError(
            f"raw sequence has no frame {format_ranges(missing)} (e.g. "
            f"{RAW_PREFIX}{missing[0]:0{files.digits}d}.tif) of 0-{files.frames[-1]}; a result "
            "needs every frame: restore the missing files", raw_dir)
    return files


def segment_frames(model_dir: str | Path, raw_dir: str | Path, *, device: str = "auto",
                   progress: bool = False) -> Iterator[np.ndarray]:
    """Instance masks of the frames of `raw_dir`, one at a time (2D or 3D).

    A 3D frame's instances are 3D bodies (:func:`segment_image`), with the
    voxel size of the dataset the registry knows by the folder's name.

    The sequence's intensity normalisation is computed first from a sample of
    its frames; then each frame is read, predicted (tiled, with the model's
    test-time augmentation) and post-processed, and released. A model trained
    on several datasets post-processes with the settings calibrated for the
    folder's dataset, where it has them (:meth:`ModelConfig.for_dataset`).
    """
    dev = resolve_device(device)
    config, net = load_model(model_dir, dev)
    config = config.for_dataset(Path(raw_dir).resolve().parent.name)
    norm = sequence_normalization(raw_dir, config.normalization)
    files = raw_frames(raw_dir)
    tta = config.postprocess.get("tta", "flips")
    spacing = relative_spacing(raw_dir)  # 3D datasets: distances in x pixels
    for t in track_progress(files.frames, desc="segmenting", unit="frame", enabled=progress):
        yield segment_image(net, config, norm(read_frame(files.paths[t])), dev, tta=tta,
                            spacing=spacing)


@torch.no_grad()
def embedding_video(model_dir: str | Path, raw_dir: str | Path, *, device: str = "auto",
                    progress: bool = False) -> LabeledSequence:
    """Tracked instances of a 2D sequence by the recurrent embedding network (RSHN).

    Consecutive frame pairs are embedded with the recurrent state reset for
    each pair and clustered together, so one cluster is one cell in both
    frames; the pair's first frame is matched to the sequence-wide labels by
    IoU, and cells seen only in the second frame get new ids, with the
    overlapping previous cell as parent (mitosis).
    """
    dev = resolve_device(device)
    config, net = load_model(model_dir, dev)
    post = config.postprocess
    norm = sequence_normalization(raw_dir, config.normalization)
    files = raw_frames(raw_dir)
    cluster = dict(min_size=post.get("min_size", 20), bandwidth=post.get("bandwidth", 0.1),
                   coord_scale=post.get("coord_scale", 0.002))
    masks: list[np.ndarray] = []
    parents: dict[int, int] = {}
    next_id = 1
    previous_image = None
    for t in track_progress(files.frames, desc="embedding", unit="frame", enabled=progress):
        image = norm(read_frame(files.paths[t]))
        if image.ndim != 2:
            raise CTCInputError("embedding video inference handles 2D sequences",
                                files.paths[t])
        if previous_image is None:
            first = cluster_embeddings(embed(net, image, dev), **cluster).astype(np.int64)
            masks.append(first)
            next_id = int(first.max()) + 1
            parents.update({int(i): 0 for i in np.unique(first[first > 0])})
        else:
            net.reset()
            pair = [net(torch.from_numpy(im)[None, None].to(dev))[1][0].cpu().numpy()
                    for im in (previous_image, image)]
            joint = cluster_embeddings(np.stack(pair, axis=1), **cluster).astype(np.int64)
            current, new_parents, next_id = link_frame_pair(masks[-1], joint[0], joint[1],
                                                            next_id)
            parents.update({int(i): 0 for i in np.unique(current[current > 0])
                            if int(i) not in parents})
            parents.update(new_parents)
            masks.append(current)
        previous_image = image
    return LabeledSequence(masks, parents)


def segment_folder(model_dir: str | Path, raw_dir: str | Path, out_dir: str | Path, *,
                   device: str = "auto", overwrite: bool = False,
                   progress: bool = False) -> int:
    """Write the (untracked) instance masks of a raw sequence as ``maskTTT.tif``; returns frames."""
    files = raw_frames(raw_dir)
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
    config = load_config(model_dir)
    n_frames = len(raw_frames(raw))  # before any work: a gap in the sequence is refused
    if config.task == "embedding":  # segments and tracks at once
        embedding_video(model_dir, raw, device=device, progress=progress).write(
            target, overwrite=overwrite)
    else:
        masks = segment_frames(model_dir, raw, device=device, progress=progress)
        tracking = TrackingConfig.from_dict(config.tracking)
        if tracking.spacing is None:  # 3D datasets: distances in x pixels
            tracking = replace(tracking, spacing=relative_spacing(raw))
        track_to_result(masks, target, tracking, overwrite=overwrite, progress=progress)
    return validate_result(target, n_frames=n_frames)
