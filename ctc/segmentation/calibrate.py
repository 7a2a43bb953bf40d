"""Post-processing thresholds chosen on held-out frames of the training sequences.

A network trained for minutes separates touching cells with a boundary class
that is often too faint for the argmax (dense DIC-C2DH-HeLa), while a
stringent cell-probability seed still finds one core per cell. Which
post-processing works best depends on how far training got, so it is chosen
per model: every setting of a small grid segments the held-out frames (the
probabilities are predicted once) and the best SEG/DET mean wins. Then the
outline refinement of fluorescent objects (:mod:`ctc.segmentation.refine`) is
chosen, or left off, on every gold frame of the training sequences. The test
data is never looked at.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ctc.progress import track_progress
from ctc.segmentation.data import spread
from ctc.segmentation.heldout import (
    ValFrame,
    gold_frames,
    gold_sizes,
    gold_solidities,
    iter_validation,
    jaccard_sum,
    load_validation,
    score,
    score_predictions,
    validation_frames,
)
from ctc.segmentation.infer import predict_frame
from ctc.segmentation.model import (
    ModelConfig,
    load_config,
    load_model,
    resolve_device,
    write_config,
)
from ctc.segmentation.postprocess import THRESHOLD_KEYS
from ctc.segmentation.refine import refine_outlines
from ctc.segmentation.segment import cluster_tiles, embed_tiles, probabilities_to_instances

SEEDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)

#: Candidate post-processing settings per task, simplest and most conservative first.
#: The distance split (``method="distance"``) is left out: on three partly annotated
#: held-out frames it won by chance and over-split elsewhere; a config can still ask for it.
GRIDS = {
    "three_class": [{"method": "components"}]
    + [{"method": "watershed", "seed_threshold": s} for s in SEEDS],
    "border": [{"seed_threshold": s} for s in (0.3, 0.4, *SEEDS)],
}

#: Settings of models with a marker channel, ahead of the rest of the grid: separating
#: touching nuclei by their markers is what such a model is trained for, and the
#: held-out frames of a partly segmented sequence rarely show the touching pairs that
#: the other settings merge, so a tie must not go to those.
#: Each threshold without, then with, the shape split of the regions no marker seeds.
MARKER_GRID = [{"method": "markers", "seed_threshold": s, **split}
               for s in (0.5, 0.3, 0.7) for split in ({}, {"h": 2.0})]


#: The clump split cuts objects less convex than this fraction of the gold objects
#: of the training data (:func:`split_threshold`).
SPLIT_QUANTILE = 0.01


def split_threshold(data: list[tuple[str | Path, list[str]]], min_size: int = 0,
                    cache: dict | None = None) -> float | None:
    """The solidity below which an object is cut as a clump: the :data:`SPLIT_QUANTILE`
    quantile of the solidity of the gold objects (at least `min_size` pixels) of the
    training sequences, so at most one in a hundred annotated cells would be a
    candidate; None without gold objects (2D, or fully annotated 3D). `cache` keeps
    each sequence's solidities for later calls (the per-dataset calibration)."""
    cache = {} if cache is None else cache
    values = []
    for d, seqs in data:
        for seq in seqs:
            key = (str(Path(d).resolve()), seq, min_size)
            if key not in cache:
                cache[key] = gold_solidities(Path(d), seq, min_size)
            values.append(cache[key])
    values = np.concatenate(values or [np.empty(0)])
    return round(float(np.quantile(values, SPLIT_QUANTILE)), 3) if len(values) else None


#: A dataset's smallest object kept (:func:`dataset_min_size`): this fraction of the
#: :data:`SIZE_QUANTILE` quantile of its gold object sizes. A quarter leaves room for
#: cells cut by the image border and for mitotic ones, which annotations hold few of.
MIN_SIZE_FRACTION = 0.25
SIZE_QUANTILE = 0.01


def one_dataset(data: list[tuple[str | Path, list[str]]]) -> bool:
    """Whether training `data` (dataset folder, sequences) comes from a single dataset:
    such a model takes that dataset's size floors as its own."""
    return len({Path(d).resolve() for d, _ in data}) == 1


def dataset_min_size(data: list[tuple[str | Path, list[str]]], floor: int) -> int:
    """The smallest object kept for one dataset's frames: :data:`MIN_SIZE_FRACTION` of
    the :data:`SIZE_QUANTILE` quantile of the sizes of its gold objects, never below
    `floor` (the model's own ``min_size``); `floor` without gold objects. Fragments
    far smaller than any annotated cell (the debris a universal model leaves in
    DIC-HeLa's textured background) go; the cells stay."""
    return candidate_floors(data, floor, (MIN_SIZE_FRACTION,))[-1]


#: Size floors tried on the whole training sequences (:func:`calibrate_tracking`):
#: these fractions of the :data:`SIZE_QUANTILE` quantile of the gold object sizes
FLOOR_FRACTIONS = (0.375, 0.5, 0.75, 1.0)


def candidate_floors(data: list[tuple[str | Path, list[str]]], floor: int,
                     fractions: tuple[float, ...] = FLOOR_FRACTIONS) -> list[int]:
    """`floor`, then each of `fractions` of the :data:`SIZE_QUANTILE` quantile of the
    sizes of the gold objects of `data` that is larger (just `floor` without gold
    objects)."""
    sizes = np.concatenate([gold_sizes(Path(d), seq) for d, seqs in data for seq in seqs]
                           or [np.empty(0)])
    if not len(sizes):
        return [int(floor)]
    quantile = float(np.quantile(sizes, SIZE_QUANTILE))
    return [int(floor)] + sorted({round(f * quantile) for f in fractions
                                  if round(f * quantile) > floor})


def default_grid(config: ModelConfig, split: float | None = None) -> list[dict]:
    """The candidate settings for `config` (:data:`GRIDS`, :data:`MARKER_GRID` first).

    With a `split` solidity (:func:`split_threshold`), each setting comes
    first with the clump split, then without: the split acts only on objects
    less convex than nearly every annotated cell, which the few held-out frames
    of a partly annotated sequence may not show at all (their score then ties
    and the split stays on); where they do show them, their score decides.
    """
    base = (MARKER_GRID if config.markers else []) + GRIDS[config.task]
    if split is None:
        return base
    return [variant for setting in base for variant in ({**setting, "split": split}, setting)]


#: Score differences below this are noise on a few held-out frames.
TOLERANCE = 0.005


def predict_frames(net, config: ModelConfig, frames: list[ValFrame], device
                   ) -> list[np.ndarray]:
    """Class probabilities of `frames` (no test-time augmentation), for scoring settings."""
    net.eval()
    post = config.postprocess
    with torch.no_grad():
        return [predict_frame(net, f.image, tile=post.get("tile", 512), context=config.context,
                              overlap=post.get("overlap", 64), tta=None, device=device)
                for f in frames]


def calibrate_frames(net, config: ModelConfig, frames: list[ValFrame], device,
                     grid: list[dict] | None = None, tolerance: float = TOLERANCE,
                     split: float | None = None,
                     probs: list[np.ndarray] | None = None) -> list[dict]:
    """Scores of every post-processing setting of `grid` on `frames`, chosen one first.

    Each entry is the setting plus its ``SEG`` (and ``DET``). The chosen
    setting is the earliest of `grid` that scores within `tolerance` of the
    best (mean of SEG and DET), so a setting that wins by noise on a few
    frames does not displace a simpler one; the rest follow, best first.
    Embedding models choose the mean-shift bandwidth instead (:data:`EMBEDDING_GRID`,
    smallest first); empty `frames` give ``[]``.
    Without a `grid`, :func:`default_grid` with the clump `split` is used.
    `probs` are the frames' probabilities where already predicted
    (:func:`predict_frames`).
    """
    if not frames:
        return []
    if config.task == "embedding":  # each frame embedded once, clustered per setting
        grid = grid or EMBEDDING_GRID
        tiles = [embed_tiles(net, f.image, config.postprocess, device) for f in frames]

        def segment(setting: dict) -> list[np.ndarray]:
            return [cluster_tiles(t, f.image.shape, {**config.postprocess, **setting})
                    for t, f in zip(tiles, frames, strict=True)]
    else:  # each frame predicted once, post-processed per setting
        grid = default_grid(config, split) if grid is None else grid
        if probs is None:
            probs = predict_frames(net, config, frames, device)

        def segment(setting: dict) -> list[np.ndarray]:
            return [probabilities_to_instances(p, config, refine=None, spacing=f.spacing,
                                               **setting)
                    for p, f in zip(probs, frames, strict=True)]
    return _choose([{**setting, **score_predictions(frames, segment(setting))}
                    for setting in grid], tolerance)


def _choose(results: list[dict], tolerance: float) -> list[dict]:
    """`results` with the earliest within `tolerance` of the best (mean of SEG and DET)
    first, the rest best first."""
    best = max(score(r) for r in results)
    chosen = next(r for r in results if score(r) >= best - tolerance)
    rest = sorted((r for r in results if r is not chosen), key=lambda r: -score(r))
    return [chosen, *rest]


#: Mean-shift bandwidths tried for embedding models (``cos^2 >= 1 - bandwidth`` joins a
#: pixel to a mode): an embedding that has not made each cell's pixels point one way
#: yet fragments cells at the default 0.1.
EMBEDDING_GRID = [{"bandwidth": b} for b in (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6)]

#: Outline-refinement fractions tried (:func:`ctc.segmentation.refine.refine_outlines`).
REFINE_FRACTIONS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
#: Gold frames per sequence the refinement is chosen on, spread over the sequence:
#: hundreds of objects already, where all of a fully annotated sequence (SIM+ 02: 150
#: frames) took most of a universal model's calibration time.
REFINE_MAX_FRAMES = 24


@torch.no_grad()
def calibrate_refine(net, config: ModelConfig, data: list[tuple[str | Path, list[str]]],
                     device, fractions: tuple[float, ...] = REFINE_FRACTIONS,
                     tolerance: float = TOLERANCE, progress: bool = True,
                     cache: dict | None = None,
                     max_frames: int = REFINE_MAX_FRAMES) -> list[dict]:
    """SEG of each outline-refinement fraction on the gold frames of the training data.

    The model's post-processing (``config.postprocess``, its ``refine`` left
    out) segments each 2D frame with a full gold segmentation in the
    sequences of `data` (at most `max_frames` per sequence, spread over it),
    training frames included; each fraction then
    redraws the outlines. One fraction for all objects is a coarse choice
    that three held-out frames cannot make: their few dozen objects rarely
    span the range of brightness the refinement is for. The first entry is
    the chosen one: the best fraction where its SEG beats no refinement
    (``refine`` None) by more than `tolerance`, else no refinement; the rest
    follow, best first. Entries hold ``refine``, ``SEG`` and ``frames``; ``[]``
    for embedding models or data without 2D gold frames. With a `cache` dict the
    probabilities of each gold frame are kept (float16) and reused by later calls
    with the same network, as the per-dataset calibration of a universal model does.
    """
    if config.task == "embedding":
        return []
    net.eval()
    post = config.postprocess
    settings = {k: v for k, v in post.items() if k != "refine"}
    options = (None, *fractions)
    sums = np.zeros(len(options))
    count, frames = 0, 0
    for dataset_dir, sequences in data:
        for seq in sequences:
            gold = spread(gold_frames(Path(dataset_dir), seq), max_frames)
            frames_iter = iter_validation(Path(dataset_dir), seq, gold, config.normalization)
            for f in track_progress(frames_iter, total=len(gold), unit="frame",
                                    desc=f"refine calibration {seq}", enabled=progress):
                if f.image.ndim != 2:
                    continue  # outlines are refined in 2D only
                key = (str(Path(dataset_dir).resolve()), seq, f.t)
                prob = None if cache is None else cache.get(key)
                if prob is None:
                    prob = predict_frame(net, f.image, tile=post.get("tile", 512),
                                         context=config.context,
                                         overlap=post.get("overlap", 64), tta=None,
                                         device=device)
                    if cache is not None:  # rounded alike whether or not the cache was warm
                        cache[key] = prob = prob.astype(np.float16)
                prob = prob.astype(np.float32, copy=False)
                labels = probabilities_to_instances(prob, config, f.image, **settings,
                                                    refine=None)
                total, n = jaccard_sum(f.seg, labels)
                sums[0] += total
                count += n
                frames += 1
                for i, fraction in enumerate(fractions, start=1):
                    sums[i] += jaccard_sum(f.seg, refine_outlines(labels, f.image, fraction))[0]
    if count == 0:
        return []
    results = [{"refine": fraction, "SEG": float(total / count), "frames": frames}
               for fraction, total in zip(options, sums, strict=True)]
    return choose_refine(results, tolerance)


def choose_refine(results: list[dict], tolerance: float = TOLERANCE) -> list[dict]:
    """`results` (``refine`` None first, then fractions, each with its ``SEG``) with the
    chosen one first: the best fraction where it beats no refinement by more than
    `tolerance`, else no refinement; the rest follow, best first."""
    off = next(r for r in results if r["refine"] is None)
    best = max((r for r in results if r["refine"] is not None), key=lambda r: r["SEG"],
               default=off)
    chosen = best if best["SEG"] > off["SEG"] + tolerance else off
    rest = sorted((r for r in results if r is not chosen), key=lambda r: -r["SEG"])
    return [chosen, *rest]


def apply_calibration(config: ModelConfig, results: list[dict]) -> ModelConfig:
    """Put the best setting of `results` into ``config.postprocess`` and record the grid."""
    if results:
        best = {k: v for k, v in results[0].items() if k not in ("SEG", "DET")}
        config.postprocess = {**{k: v for k, v in config.postprocess.items()
                                 if k not in THRESHOLD_KEYS}, **best}
        config.scores = {**config.scores, "calibration": results}
    return config


def apply_refine(config: ModelConfig, results: list[dict]) -> ModelConfig:
    """Put the chosen outline refinement of `results` (:func:`calibrate_refine`) into
    ``config.postprocess`` (none: the key is removed) and record the scores."""
    if results:
        post = {k: v for k, v in config.postprocess.items() if k != "refine"}
        if results[0]["refine"] is not None:
            post["refine"] = results[0]["refine"]
        config.postprocess = post
        config.scores = {**config.scores, "refine_calibration": results}
    return config


def calibrate_saved_model(model_dir: str | Path, frames: list[ValFrame], device,
                          data: list[tuple[str | Path, list[str]]] = (), log=print,
                          progress: bool = True) -> ModelConfig:
    """Calibrate the model saved in `model_dir` on `frames` and rewrite its ``config.json``.

    The chosen setting goes into ``postprocess`` and the scored grid into
    ``scores["calibration"]`` (written atomically). Shared by training, which
    calls it with the frames it held out, and :func:`calibrate_model`. `data`
    (dataset folder, sequences) is what the model was trained on; its gold
    objects set the clump-split solidity (:func:`split_threshold`) and its
    gold frames choose the outline refinement (:func:`calibrate_refine`).

    A model trained on one dataset first takes that dataset's smallest object
    (:func:`dataset_min_size`) as its ``min_size``. A model trained on several
    datasets is also calibrated on each dataset's
    own held-out frames and gold frames, each with that dataset's floor, into
    ``dataset_postprocess`` (:meth:`ModelConfig.for_dataset`); the pooled setting
    stays for datasets it never saw.
    """
    config, net = load_model(model_dir, device)
    names = sorted({f.dataset for f in frames})
    if one_dataset(data):
        # one dataset: its gold object sizes set the smallest object kept before the
        # thresholds are chosen (a pooled model keeps its own floor for unseen datasets)
        config.postprocess["min_size"] = dataset_min_size(
            list(data), config.postprocess.get("min_size", 0))
    # several datasets: each gold frame is predicted, and its solidities read, once for
    # the pooled calibration and the per-dataset ones
    gold_cache = {} if len(names) > 1 else None
    solidities: dict = {}
    split = split_threshold(list(data), config.postprocess.get("min_size", 0), solidities)
    probs = predict_frames(net, config, frames, device) if config.task != "embedding" else []
    results = calibrate_frames(net, config, frames, device, split=split, probs=probs)
    if not results:
        log("nothing to calibrate (embedding model, or no held-out frames with gold truth)")
        return config
    config = apply_calibration(config, results)
    log("post-processing calibrated on the held-out frames: " + _describe(results[0]))
    if config.task == "embedding":  # the rest (refinement, per dataset) is for U-Nets
        write_config(model_dir, config)
        return config
    refine = calibrate_refine(net, config, list(data), device, progress=progress,
                              cache=gold_cache)
    config = apply_refine(config, refine)
    if refine:
        log(f"outline refinement on {refine[0]['frames']} gold frames of the training data: "
            + _describe(refine[0]) + f" (none: SEG {_unrefined(refine):.4f})")
    config.dataset_postprocess = {}
    config.scores.pop("dataset_calibration", None)
    if len(names) > 1:
        config.scores["dataset_calibration"] = {}
        for name in names:
            settings, scores = _calibrate_dataset(net, config, name, frames, probs, data,
                                                  device, log, progress,
                                                  caches=(solidities, gold_cache))
            config.dataset_postprocess[name] = settings
            config.scores["dataset_calibration"][name] = scores
    write_config(model_dir, config)
    return config


def _calibrate_dataset(net, config: ModelConfig, name: str, frames: list[ValFrame],
                       probs: list[np.ndarray], data: list[tuple[str | Path, list[str]]],
                       device, log, progress: bool, caches: tuple[dict | None, dict | None]
                       = (None, None)) -> tuple[dict, dict]:
    """The post-processing of dataset `name` chosen on its own held-out frames and gold
    frames (:func:`calibrate_saved_model`): its ``dataset_postprocess`` entry and the
    scores of the best settings."""
    own = [i for i, f in enumerate(frames) if f.dataset == name]
    own_data = [(d, seqs) for d, seqs in data if Path(d).resolve().name == name]
    solidities, gold_cache = caches
    # the dataset's size floor first, as for a model trained on it alone: thresholds
    # scored with fragments the floor will remove favour settings that merge cells
    floor = dataset_min_size(own_data, config.postprocess.get("min_size", 0))
    config = replace(config, postprocess={**config.postprocess, "min_size": floor}, scores={})
    split = split_threshold(own_data, floor, solidities)
    results = calibrate_frames(net, config, [frames[i] for i in own], device, split=split,
                               probs=[probs[i] for i in own])
    tuned = apply_calibration(config, results)
    refine = calibrate_refine(net, tuned, own_data, device, progress=progress,
                              cache=gold_cache)
    tuned = apply_refine(tuned, refine)
    settings = {k: v for k, v in tuned.postprocess.items() if k in THRESHOLD_KEYS}
    settings["min_size"] = floor
    log(f"{name}: " + _describe(settings) + f" (held-out SEG {results[0]['SEG']:.4f}"
        + (f", DET {results[0]['DET']:.4f}" if "DET" in results[0] else "") + ")")
    return settings, {"calibration": results[:3], "refine": refine[:3]}


def _describe(result: dict) -> str:
    return ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in result.items())


def _unrefined(results: list[dict]) -> float:
    return next(r["SEG"] for r in results if r["refine"] is None)


def calibrate_model(model_dir: str | Path, data: list[tuple[str | Path, list[str]]], *,
                    val_frames: int = 3, device: str = "auto", log=print,
                    progress: bool = True) -> ModelConfig:
    """Calibrate the post-processing of a trained model on its training data's held-out frames.

    Parameters
    ----------
    model_dir : path
        Model folder; its ``config.json`` is rewritten as by :func:`calibrate_saved_model`.
    data : list of (dataset folder, sequences)
        The data the model was trained on; the same frames training held out
        (`val_frames` per sequence) are used.
    """
    normalization = load_config(model_dir).normalization
    frames = []
    for dataset_dir, sequences in data:
        for seq in sequences:
            held = validation_frames(Path(dataset_dir), seq, val_frames)
            frames += load_validation(Path(dataset_dir), seq, held, normalization)
    return calibrate_saved_model(model_dir, frames, resolve_device(device), data=data, log=log,
                                 progress=progress)


def calibrate_tracking(model_dir: str | Path, data: list[tuple[str | Path, list[str]]], *,
                       device: str = "auto", log=print, progress: bool = True) -> ModelConfig:
    """Choose the model's smallest object kept, ``tracking["split_merged"]`` and
    ``tracking["min_track_length"]`` on its training sequences.

    Every sequence of `data` is segmented whole with the model (as ``ctc run``
    would, post-processing per dataset included). A model trained on one dataset
    first raises its ``min_size`` to the largest of :func:`candidate_floors` that
    costs nothing there (:func:`ctc.tracking.calibrate.score_size_floors`,
    :func:`~ctc.tracking.calibrate.choose_size_floor`: objects smaller than it
    removed, every track kept). The masks, without the objects below the floor,
    are then re-tracked with each candidate minimum track length
    (:func:`ctc.tracking.calibrate.score_track_lengths`,
    :func:`~ctc.tracking.calibrate.choose_track_length`), with merged objects cut
    apart (``tracking["split_merged"]``) where that was chosen just before
    (:func:`~ctc.tracking.calibrate.score_split_merged`,
    :func:`~ctc.tracking.calibrate.choose_split_merged`). The choices and the
    scores go into ``config.json``. Embedding models, which track as they
    segment, are left as they are.
    """
    # imported here: ctc.pipeline imports this module
    from ctc.datasets import relative_spacing
    from ctc.pipeline import segment_folder
    from ctc.tracking import TrackingConfig
    from ctc.tracking.calibrate import (
        TRACK_LENGTHS,
        choose_size_floor,
        choose_split_merged,
        choose_track_length,
        score_size_floors,
        score_split_merged,
        score_track_lengths,
        without_small,
    )

    config = load_config(model_dir)
    if config.task == "embedding":
        log("embedding models track as they segment: no track length to choose")
        return config
    # the floors are scored without the cut, which is chosen after them
    tracking = replace(TrackingConfig.from_dict(config.tracking), split_merged=False)
    single = one_dataset(data)
    earlier = config.scores.get("size_floor_calibration")
    if single and earlier:
        # calibrated before: start again from the floor that calibration started from,
        # with its objects in the masks, rather than ratchet up from the floor it chose
        config.postprocess = {**config.postprocess, "min_size": earlier[0]["min_size"]}
        write_config(model_dir, config)
    with tempfile.TemporaryDirectory(prefix="ctc-calibrate-tracking-") as tmp:
        segmented = []  # (masks, gold truth, name, tracking with the sequence's spacing)
        for i, (dataset_dir, sequences) in enumerate(data):
            for seq in sequences:
                raw = Path(dataset_dir) / seq
                masks = Path(tmp) / f"{i}-{seq}"
                log(f"segmenting {Path(dataset_dir).name} {seq} for the track-length "
                    "calibration")
                segment_folder(model_dir, raw, masks, device=device, progress=progress)
                spaced = (tracking if tracking.spacing is not None
                          else replace(tracking, spacing=relative_spacing(raw)))
                segmented.append((masks, Path(dataset_dir) / f"{seq}_GT",
                                  f"{Path(dataset_dir).name} {seq}", spaced))
        floors = (candidate_floors(list(data), config.postprocess.get("min_size", 0))
                  if single else [])
        # scores already known: each step's base is the row the step before it chose
        kept_whole = None
        if len(floors) > 1:
            # one dataset, so one spacing; every track kept, as the track-length base
            floor_rows = score_size_floors([(m, gt) for m, gt, _, _ in segmented], floors,
                                           replace(segmented[0][3], min_track_length=0))
            floor = choose_size_floor(floor_rows)
            _name_sequences(floor_rows, segmented)
            pick = next(r for r in floor_rows if r["min_size"] == floor)["sequences"]
            log(f"min_size={floor} (of {', '.join(map(str, floors))}): false positives "
                f"{sum(s['FP'] for s in floor_rows[0]['sequences'])} -> "
                f"{sum(s['FP'] for s in pick)} on the training sequences, every track kept")
            if floor != floors[0]:
                segmented = [(without_small(m, floor, Path(tmp) / f"floor-{k}"), gt, name, sp)
                             for k, (m, gt, name, sp) in enumerate(segmented)]
            config.postprocess = {**config.postprocess, "min_size": floor}
            config.scores = {**config.scores, "size_floor_calibration": floor_rows}
            kept_whole = pick  # the chosen floor's masks, not cut, every track kept
        split_rows = _per_sequence(
            lambda s, c: score_split_merged(s, c, (True,) if kept_whole else (False, True)),
            segmented)
        if kept_whole:
            split_rows = [{"split_merged": False, "sequences": _copies(kept_whole)}, *split_rows]
        split = choose_split_merged(split_rows)
        on, off = (next(r for r in split_rows if r["split_merged"] is flag)["sequences"]
                   for flag in (True, False))
        log(f"split_merged={split}: TRA {_mean(off, 'TRA'):.4f} kept, {_mean(on, 'TRA'):.4f} "
            f"cut, tracks {sum(s['tracks'] for s in off)} -> {sum(s['tracks'] for s in on)} "
            "on the training sequences, every track kept")
        segmented = [(m, gt, name, replace(sp, split_merged=split))
                     for m, gt, name, sp in segmented]
        # length 0 keeps every track: the split row just chosen
        longer = tuple(n for n in TRACK_LENGTHS if n > 0)
        results = [{"min_track_length": 0, "sequences": _copies(on if split else off)},
                   *_per_sequence(lambda s, c: score_track_lengths(s, c, longer), segmented)]
    chosen = choose_track_length(results)
    config.tracking = {**config.tracking, "min_track_length": chosen, "split_merged": split}
    config.scores = {**config.scores, "split_merged_calibration": split_rows,
                     "track_length_calibration": results}
    first, pick = results[0]["sequences"], next(
        r for r in results if r["min_track_length"] == chosen)["sequences"]
    log(f"min_track_length={chosen}: false positives "
        f"{sum(s['FP'] for s in first)} -> {sum(s['FP'] for s in pick)}, tracks "
        f"{sum(s['tracks'] for s in first)} -> {sum(s['tracks'] for s in pick)} on the "
        "training sequences")
    write_config(model_dir, config)
    return config


def _per_sequence(score, segmented: list[tuple]) -> list[dict]:
    """`score` ([(masks, gold)], tracking) of each segmented sequence with its own tracking
    (spacing), the rows of all sequences joined."""
    results = []
    for masks, gt, name, spaced in segmented:
        rows = score([(masks, gt)], spaced)
        _name_sequences(rows, [(masks, gt, name, spaced)])
        results = rows if not results else [
            {**r, "sequences": r["sequences"] + row["sequences"]}
            for r, row in zip(results, rows, strict=True)]
    return results


def _copies(scores: list[dict]) -> list[dict]:
    return [dict(s) for s in scores]


def _mean(scores: list[dict], key: str) -> float:
    return sum(s[key] for s in scores) / len(scores)


def _name_sequences(rows: list[dict], segmented: list[tuple]) -> None:
    """Label each row's per-sequence scores with the sequence they belong to."""
    for row in rows:
        for scores, (_, _, name, _) in zip(row["sequences"], segmented, strict=True):
            scores["sequence"] = name
