"""Segmentation core: targets, networks, losses, training, inference, ctc run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage as ndi

from ctc.cli import main
from ctc.errors import CTCInputError
from ctc.metrics import evaluate
from ctc.metrics.matching import match_frame
from ctc.segmentation.calibrate import (
    GRIDS,
    MARKER_GRID,
    REFINE_FRACTIONS,
    apply_calibration,
    apply_refine,
    calibrate_frames,
    calibrate_refine,
    choose_refine,
    default_grid,
    split_threshold,
)
from ctc.segmentation.data import (
    Augment,
    CropSampler,
    balanced_weights,
    blur_image,
    load_samples,
    scale_cells,
    sequence_normalization,
    spread,
)
from ctc.segmentation.heldout import ValFrame
from ctc.segmentation.infer import predict_image, predict_volume
from ctc.segmentation.losses import LOSSES, make_loss
from ctc.segmentation.model import ModelConfig, load_model
from ctc.segmentation.nets import XBNET, NetConfig, UNet, count_parameters
from ctc.segmentation.postprocess import (
    border_instances,
    instances,
    prominent_peaks,
    split_clumps,
    three_class_instances,
)
from ctc.segmentation.refine import refine_outlines
from ctc.segmentation.targets import (
    BOUNDARY,
    CELL,
    IGNORE,
    MARKER_LEVELS,
    annotation_mask,
    border_targets,
    erode_labels,
    marker_target,
    merge_truths,
    three_class_target,
)
from ctc.segmentation.train import (
    CHECKPOINT,
    PROGRESS_LOG,
    SNAPSHOTS,
    TrainConfig,
    _task_loss,
    snapshot_path,
    train,
)
from ctc.toy import moving_discs, write_gt

TINY = NetConfig(base=4, depth=2)


def touching_pair(shape=(20, 24)):
    lab = np.zeros(shape, np.uint16)
    lab[4:14, 3:10] = 1
    lab[4:14, 10:17] = 2
    lab[16:19, 20:23] = 3
    return lab


# --- targets -------------------------------------------------------------------------


def test_three_class_target_separates_touching_cells():
    lab = touching_pair()
    target = three_class_target(lab, iterations=2)
    assert target.dtype == np.uint8 and set(np.unique(target)) <= {0, 1, 2}
    assert target.shape == lab.shape
    cells, n = ndi.label(target == CELL)
    assert n == 3  # the two touching cells are apart
    assert (target[lab == 0] != CELL).all()
    assert (target[4:14, 8:12] == BOUNDARY).all()  # where they touch
    assert target[1, 5] == 0 and target[3, 5] == BOUNDARY  # ring of width 2 outside


def test_three_class_target_3d():
    lab = np.zeros((6, 10, 10), np.uint16)
    lab[1:5, 2:8, 2:5] = 1
    lab[1:5, 2:8, 5:8] = 2
    target = three_class_target(lab, iterations=1)
    assert target.shape == lab.shape and ndi.label(target == CELL)[1] == 2


def test_border_targets_and_erosion():
    lab = touching_pair()
    classes, fg = border_targets(lab, erosion=1, border_width=1)
    assert set(np.unique(classes)) <= {0, 1, 2} and set(np.unique(fg)) == {0, 1}
    np.testing.assert_array_equal(fg, lab > 0)
    assert ndi.label(classes == CELL)[1] == 3
    eroded = erode_labels(lab, 3)
    assert set(np.unique(eroded)) == {0, 1, 2, 3}  # no object vanishes
    assert (eroded[lab == 0] == 0).all()


def test_annotation_mask_and_truth_merge():
    lab = np.zeros((30, 30), np.uint16)
    lab[2:8, 2:8] = 5
    markers = np.zeros_like(lab)
    markers[4, 4] = 1          # annotated cell
    markers[20, 20] = 2        # cell without segmentation
    known = annotation_mask(lab, markers, margin=3)
    assert known[4, 4] and not known[20, 20] and not known[22, 20] and known[27, 27]
    assert merge_truths({1: "gt"}, {0: "st", 1: "st"}) == {0: "st", 1: "gt"}


# --- networks and losses -------------------------------------------------------------


@pytest.mark.parametrize("cfg", [
    NetConfig(base=4, depth=3),
    NetConfig(base=4, depth=2, norm="group", down="conv", up="pixelshuffle"),
    NetConfig(base=8, depth=2, block="residual_dense", aspp=True, entry=True, norm="group",
              up="pixelshuffle", dense_layers=2, growth=4),
])
def test_unet_variants_on_odd_sizes(cfg):
    net = UNet(cfg).eval()
    for h, w in ((37, 53), (8, 9), (64, 64)):
        assert net(torch.randn(1, 1, h, w)).shape == (1, 3, h, w)


def test_xbnet_preset():
    assert (XBNET.block, XBNET.norm, XBNET.up, XBNET.aspp, XBNET.entry, XBNET.base) == (
        "residual_dense", "group", "pixelshuffle", True, True, 32)
    assert count_parameters(UNet(NetConfig(base=16))) < 2_500_000
    with pytest.raises(ValueError, match="norm must be one of"):
        NetConfig(norm="layer")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_have_gradients_and_ignore_pixels(name):
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 12, 12, requires_grad=True)
    target = torch.randint(0, 3, (2, 12, 12))
    target[:, :3] = IGNORE
    loss = make_loss(name)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 0
    assert logits.grad[:, :, 3:].abs().sum() > 0
    assert logits.grad[:, :, :3].abs().sum() == 0  # ignored pixels get no gradient
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("mse")


# --- inference and post-processing ---------------------------------------------------


def test_tiling_equals_whole_image_when_it_fits():
    torch.manual_seed(0)
    net = UNet(TINY).eval()
    image = np.random.default_rng(0).random((40, 52)).astype(np.float32)
    with torch.no_grad():
        direct = net(torch.from_numpy(image)[None, None]).softmax(1)[0].numpy()
    np.testing.assert_allclose(predict_image(net, image, tile=64, tta=None), direct, atol=1e-6)
    tiled = predict_image(net, image, tile=24, overlap=8, tta="dihedral")
    assert tiled.shape == (3, 40, 52)
    np.testing.assert_allclose(tiled.sum(0), 1.0, atol=1e-5)
    assert predict_volume(net, np.stack([image] * 3), tile=64, tta=None).shape == (3, 3, 40, 52)


def test_postprocess_inverts_perfect_targets():
    lab = touching_pair((30, 40))
    prob = np.eye(3)[three_class_target(lab, 2)].transpose(2, 0, 1)
    out = three_class_instances(prob, iterations=2, min_size=1)
    m = match_frame(lab, out)
    assert len(m.match_ref) == 3 and m.jaccard().min() > 0.85
    classes, fg = border_targets(lab, 1, 1)
    prob4 = np.concatenate([np.eye(3)[classes].transpose(2, 0, 1), fg[None]], 0)
    m = match_frame(lab, border_instances(prob4, min_size=1))
    assert len(m.match_ref) == 3 and m.jaccard().min() > 0.85
    out = three_class_instances(prob, iterations=2, min_size=1, method="watershed")
    m = match_frame(lab, out)
    assert len(m.match_ref) == 3 and m.jaccard().min() > 0.85
    with pytest.raises(ValueError, match="post-processing method"):
        three_class_instances(prob, method="threshold")


def faint_boundary_pair():
    """Two touching discs whose dividing boundary the network missed (cell wins the argmax
    there) but whose cores are confident: the case seeded watershed is for."""
    yy, xx = np.mgrid[:40, :60]
    lab = np.zeros((40, 60), np.uint16)
    for i, cx in enumerate((20, 39), start=1):
        lab[(yy - 20) ** 2 + (xx - cx) ** 2 <= 10 ** 2] = i
    lab[(lab == 0) & (np.abs(xx - 29.5) < 1) & (np.abs(yy - 20) < 4)] = 1  # a bridge
    cores = ndi.distance_transform_edt(lab > 0)
    cell = np.where(lab > 0, 0.55 + 0.4 * np.minimum(cores / 6, 1), 0.05)
    prob = np.stack([np.where(lab > 0, 0.02, 0.9), cell, np.zeros_like(cell)])
    prob[2] = 1 - prob[0] - prob[1]
    truth = np.where(xx < 30, 1, 2).astype(np.uint16) * (lab > 0)
    return prob, truth


def test_watershed_splits_cells_with_a_faint_boundary():
    prob, truth = faint_boundary_pair()
    merged = three_class_instances(prob, iterations=1, min_size=1)
    assert merged.max() == 1
    split = three_class_instances(prob, iterations=1, min_size=1, method="watershed",
                                  seed_threshold=0.9)
    m = match_frame(truth, split)
    assert split.max() == 2 and len(m.match_ref) == 2 and m.jaccard().min() > 0.8


def test_distance_seeds_split_touching_round_nuclei():
    yy, xx = np.mgrid[:40, :64]
    truth = np.zeros((40, 64), np.uint16)
    truth[(yy - 20) ** 2 + (xx - 20) ** 2 <= 11 ** 2] = 1
    truth[((yy - 20) ** 2 + (xx - 41) ** 2 <= 11 ** 2) & (truth == 0)] = 2
    cell = np.where(truth > 0, 0.9, 0.05)  # no boundary seen at all, uniform confidence
    prob = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)])
    assert three_class_instances(prob, iterations=1, min_size=1, method="watershed").max() == 1
    split = three_class_instances(prob, iterations=1, min_size=1, method="distance",
                                  seed_threshold=0.5, h=2.0)
    m = match_frame(truth, split)
    assert split.max() == 2 and len(m.match_ref) == 2 and m.jaccard().min() > 0.85


def touching_discs(width: int = 110) -> tuple[np.ndarray, np.ndarray]:
    """Two touching round nuclei (radius 12) as truth, and as one merged object."""
    yy, xx = np.mgrid[:40, :width]
    truth = np.zeros((40, width), np.uint16)
    truth[(yy - 20) ** 2 + (xx - 16) ** 2 <= 12 ** 2] = 1
    truth[((yy - 20) ** 2 + (xx - 39) ** 2 <= 12 ** 2) & (truth == 0)] = 2
    return truth, (truth > 0).astype(np.uint16)


def test_split_clumps_cuts_merged_nuclei_and_keeps_convex_cells():
    yy, xx = np.mgrid[:40, :110]
    truth, merged = touching_discs()
    lone = (yy - 20) ** 2 + (xx - 80) ** 2 <= 12 ** 2
    merged[lone] = 2
    split = split_clumps(merged)
    m = match_frame(truth, split)
    assert split.max() == 3 and len(m.match_ref) == 2 and m.jaccard().min() > 0.9
    assert np.array_equal(split[lone], np.full(lone.sum(), split[20, 80]))
    assert np.array_equal(split > 0, merged > 0)
    # above the solidity threshold nothing is cut
    assert split_clumps(merged, solidity=0.8).max() == 2
    # a cell with a small bulge (a fifth of its area) stays whole unless the parts may be small
    bulged = np.zeros((40, 110), np.uint16)
    bulged[(yy - 20) ** 2 + (xx - 72) ** 2 <= 12 ** 2] = 5
    bulged[(yy - 20) ** 2 + (xx - 90) ** 2 <= 6 ** 2] = 5
    assert split_clumps(bulged, solidity=0.9).max() == 1
    assert split_clumps(bulged, solidity=0.9, min_fraction=0.1).max() == 2
    assert split_clumps(np.zeros((5, 5), np.uint16)).max() == 0
    # instances() applies it after any method when asked
    cell = np.where(merged > 0, 0.9, 0.05)
    prob = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)])
    assert instances(prob, "three_class", iterations=1, min_size=1).max() == 2
    assert instances(prob, "three_class", iterations=1, min_size=1, split=0.85).max() == 3


def tilted_stadium(angle: float) -> np.ndarray:
    """An elongated nucleus (a 50 x 30 stadium) rotated by `angle` degrees."""
    yy, xx = np.mgrid[:120, :120]
    a = np.deg2rad(angle)
    u = (xx - 60) * np.cos(a) + (yy - 60) * np.sin(a)
    v = -(xx - 60) * np.sin(a) + (yy - 60) * np.cos(a)
    return ((np.abs(v) < 15) & (np.abs(u) < 25)) | ((np.abs(u) - 25) ** 2 + v ** 2 < 15 ** 2)


def test_prominent_peaks_gives_one_seed_per_dome():
    # the discrete distance ridge of a tilted elongated cell has many equally high summits
    # (h_maxima keeps them apart); they are one dome, so one seed and one object
    for angle in (7, 21, 28, 63):
        cell = tilted_stadium(angle)
        distance = ndi.distance_transform_edt(cell)
        assert prominent_peaks(distance, 3.0).max() == 1
        prob = np.stack([np.where(cell, 0.05, 0.95), np.where(cell, 0.9, 0.04),
                         np.full(cell.shape, 0.01)])
        assert three_class_instances(prob, method="distance", seed_threshold=0.5,
                                     h=3.0).max() == 1
    # two touching discs are two domes when h is below the depth of their neck
    _, merged = touching_discs()
    distance = ndi.distance_transform_edt(merged)
    peaks = prominent_peaks(distance, 3.0)
    assert peaks.max() == 2 and peaks[20, 16] != peaks[20, 39] and peaks[20, 16] > 0
    assert prominent_peaks(distance, 30.0).max() == 1
    assert prominent_peaks(np.zeros((4, 4)), 1.0).max() == 0


def blurred_nuclei(noise: float = 0.0):
    """A bright and a ten-fold dimmer nucleus (radius 12), blurred, with their gold labels."""
    yy, xx = np.mgrid[:64, :128]
    gold = np.zeros((64, 128), np.uint16)
    gold[(yy - 32) ** 2 + (xx - 32) ** 2 <= 12 ** 2] = 1
    gold[(yy - 32) ** 2 + (xx - 92) ** 2 <= 12 ** 2] = 2
    signal = np.array([0.0, 1000.0, 100.0])[gold]
    image = 100 + ndi.gaussian_filter(signal, 2.0)
    image += np.random.default_rng(0).normal(0, noise, image.shape)
    return image, gold


def test_refine_outlines_redraws_edges_at_each_objects_own_brightness():
    image, gold = blurred_nuclei(noise=2.0)
    # the network's bias: the bright nucleus too large, the dim one too small
    predicted = np.where(gold == 1, 0, gold)
    predicted[ndi.binary_dilation(gold == 1, iterations=4)] = 1
    predicted[(gold == 2) & ~ndi.binary_erosion(gold == 2, iterations=4)] = 0
    before = match_frame(gold, predicted).jaccard()
    refined = refine_outlines(predicted, image, 0.45)
    after = match_frame(gold, refined).jaccard()
    assert before.max() < 0.8 and after.min() > 0.9
    assert refined.dtype == predicted.dtype and set(np.unique(refined)) == {0, 1, 2}
    # any affine normalisation of the image gives the same outlines
    assert np.array_equal(refine_outlines(predicted, 3.5 * image - 250, 0.45), refined)
    # an object no brighter than its surroundings (not fluorescence) is kept as it was
    dark = predicted.copy()
    dark[35:45, 50:60] = 3
    kept = refine_outlines(dark, image, 0.45)
    assert np.array_equal(kept == 3, dark == 3)
    # objects below `min_contrast` noise deviations keep the network's outline: the dim
    # nucleus stands about 170 deviations above its background, the bright one about 1,500
    selective = refine_outlines(predicted, image, 0.45, min_contrast=500.0)
    assert np.array_equal(selective == 2, predicted == 2)
    assert np.array_equal(selective == 1, refined == 1)
    # growth is bounded by the reach
    assert not (refine_outlines(predicted, image, 0.01, reach=2)
                & ~ndi.binary_dilation(predicted > 0, iterations=2)).any()
    assert refine_outlines(np.zeros_like(gold), image, 0.3).max() == 0
    with pytest.raises(ValueError, match="fraction"):
        refine_outlines(predicted, image, 1.2)
    with pytest.raises(ValueError, match="shape"):
        refine_outlines(predicted, image[:10], 0.3)
    cell = np.where(predicted > 0, 0.9, 0.05)
    prob = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)])
    assert match_frame(gold, instances(prob, "three_class", iterations=1, min_size=1,
                                       refine=0.45, image=image)).jaccard().min() > 0.9
    with pytest.raises(ValueError, match="needs the image"):
        instances(prob, "three_class", refine=0.45)


def test_refine_calibration_on_the_training_gold_frames(tmp_path):
    image, gold = blurred_nuclei(noise=2.0)
    dataset = tmp_path / "Fluo-Toy"
    (dataset / "01").mkdir(parents=True)
    (dataset / "01_GT" / "SEG").mkdir(parents=True)
    for t in range(2):
        tifffile.imwrite(dataset / "01" / f"t{t:03d}.tif", image.astype(np.uint16))
        tifffile.imwrite(dataset / "01_GT" / "SEG" / f"man_seg{t:03d}.tif", gold)
    config = ModelConfig(net=TINY)
    config.postprocess = {**config.postprocess, "min_size": 1}
    data = [(dataset, ["01"])]

    def net_predicting(mask):
        cell = np.where(mask, 0.9, 0.05)
        return FixedPrediction(np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)]))

    # outlines a few pixels too large: a fraction is chosen and recorded in the config
    results = calibrate_refine(net_predicting(ndi.binary_dilation(gold > 0, iterations=4)),
                               config, data, "cpu", progress=False)
    assert results[0]["refine"] in REFINE_FRACTIONS and results[0]["frames"] == 2
    # a long fully annotated sequence: a spread of its gold frames is enough
    assert calibrate_refine(net_predicting(gold > 0), config, data, "cpu", progress=False,
                            max_frames=1)[0]["frames"] == 1
    assert spread(list(range(150)), 24)[::23] == [0, 149] and len(spread(range(150), 24)) == 24
    assert spread([3, 5], 24) == [3, 5]
    unrefined = next(r["SEG"] for r in results if r["refine"] is None)
    assert results[0]["SEG"] > unrefined + 0.1
    chosen = apply_refine(config, results)
    assert chosen.postprocess["refine"] == results[0]["refine"]
    # exact outlines: refinement cannot earn its place and the key goes
    results = calibrate_refine(net_predicting(gold > 0), chosen, data, "cpu", progress=False)
    assert results[0]["refine"] is None and "refine" not in apply_refine(chosen,
                                                                          results).postprocess
    # the rule: a gain within the tolerance is noise
    assert choose_refine([{"refine": None, "SEG": 0.8}, {"refine": 0.3, "SEG": 0.803}],
                         0.005)[0]["refine"] is None
    assert choose_refine([{"refine": None, "SEG": 0.8}, {"refine": 0.3, "SEG": 0.81}],
                         0.005)[0]["refine"] == 0.3


class FixedPrediction(torch.nn.Module):
    """A 'network' whose softmax is a given probability map, whatever the input."""

    def __init__(self, prob):
        super().__init__()
        self.logits = torch.log(torch.from_numpy(prob.astype(np.float32)))

    def forward(self, x):
        return self.logits[None].expand(x.shape[0], -1, -1, -1)


def test_calibration_chooses_the_watershed_where_components_merge():
    prob, truth = faint_boundary_pair()
    frame = ValFrame(np.zeros(truth.shape, np.float32), truth, None)
    config = ModelConfig(net=TINY, iterations=1, loss={"name": "nfl"},
                         postprocess={"min_size": 1, "tile": 64})
    results = calibrate_frames(FixedPrediction(prob), config, [frame], "cpu")
    assert len(results) == len(default_grid(config)) == len(GRIDS["three_class"])
    assert results[0]["method"] == "watershed" and results[0]["SEG"] > 0.8
    components = next(r for r in results if r["method"] == "components")
    assert components["SEG"] < 0.7
    # a margin within the tolerance does not displace the simpler, earlier setting
    lenient = calibrate_frames(FixedPrediction(prob), config, [frame], "cpu", tolerance=1.0)
    assert lenient[0]["method"] == "components"
    assert [r["SEG"] for r in lenient[1:]] == sorted((r["SEG"] for r in lenient[1:]),
                                                     reverse=True)
    apply_calibration(config, results)
    assert config.postprocess["method"] == "watershed"
    assert config.postprocess["seed_threshold"] == results[0]["seed_threshold"]
    assert config.postprocess["min_size"] == 1 and config.scores["calibration"] == results


def test_calibration_keeps_the_clump_split_unless_held_out_frames_refute_it():
    truth, merged = touching_discs(64)
    cell = np.where(merged > 0, 0.9, 0.05)  # no boundary seen at all
    prob = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)])
    config = ModelConfig(net=TINY, iterations=1, loss={"name": "nfl"},
                         postprocess={"min_size": 1, "tile": 64})
    frame = ValFrame(np.zeros(truth.shape, np.float32), truth, None)
    results = calibrate_frames(FixedPrediction(prob), config, [frame], "cpu", split=0.9)
    assert len(results) == 2 * len(GRIDS["three_class"])
    assert results[0]["split"] == 0.9 and results[0]["SEG"] > 0.9
    assert all(r["SEG"] < 0.6 for r in results if "split" not in r)
    # a tie (no clump on the held-out frames) keeps the split
    lone = np.where(truth == 1, 1, 0).astype(np.uint16)
    cell = np.where(lone > 0, 0.9, 0.05)
    single = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)])
    tie = calibrate_frames(FixedPrediction(single), config,
                           [ValFrame(np.zeros(truth.shape, np.float32), lone, None)], "cpu",
                           split=0.9)
    assert tie[0] == {"method": "components", "split": 0.9, "SEG": 1.0}
    # held-out cells that are one non-convex object each: the split loses and is left off
    whole = ValFrame(np.zeros(truth.shape, np.float32), merged, None)
    results = calibrate_frames(FixedPrediction(prob), config, [whole], "cpu", split=0.9)
    assert "split" not in results[0] and results[0]["SEG"] > 0.99
    apply_calibration(config, results)
    assert "split" not in config.postprocess


class CellFromImage(torch.nn.Module):
    """A 'network' that reads the cell probability off its input: an image of
    probabilities from 0.05 to 0.95, min-max normalised."""

    def forward(self, x):
        cell = (0.05 + 0.9 * x[:, :1]).clamp(0.05, 0.95)
        return torch.log(torch.cat([1 - cell - 0.01, cell, torch.full_like(cell, 0.01)], 1))


def write_probability_dataset(folder, prob, truth, frames=3):
    """A dataset whose frames store a cell probability map (x1000)."""
    image = (prob[1] * 1000).round().astype(np.uint16)
    (folder / "01").mkdir(parents=True)
    (folder / "01_GT" / "SEG").mkdir(parents=True)
    for t in range(frames):
        tifffile.imwrite(folder / "01" / f"t{t:03d}.tif", image)
        tifffile.imwrite(folder / "01_GT" / "SEG" / f"man_seg{t:03d}.tif", truth)


def test_multi_dataset_models_calibrate_and_segment_per_dataset(tmp_path, monkeypatch):
    import ctc.pipeline
    import ctc.segmentation.calibrate as calibrate_module
    from ctc.segmentation.model import load_config, write_config

    # a disc cut in two by a faint line: merged by components, split by the watershed,
    # and too convex for the clump split
    yy, xx = np.mgrid[:40, :60]
    disc = (yy - 20) ** 2 + (xx - 30) ** 2 <= 12 ** 2
    truth = (disc * np.where(xx < 30, 1, 2)).astype(np.uint16)
    cell = np.where(disc, np.where(np.abs(xx - 29.5) < 1.5, 0.85, 0.95), 0.05)
    write_probability_dataset(tmp_path / "Toy-Dense",
                              np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)]),
                              truth)
    lone = disc.astype(np.uint16)
    cell = np.where(disc, 0.95, 0.05)
    write_probability_dataset(tmp_path / "Toy-Sparse",
                              np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)]),
                              lone)
    model = tmp_path / "model"
    model.mkdir()
    write_config(model, ModelConfig(net=TINY, iterations=1, loss={"name": "nfl"},
                                    normalization="minmax",
                                    postprocess={"min_size": 2, "tile": 64, "tta": "none"}))

    def stub_model(folder, device="cpu"):
        return load_config(folder), CellFromImage()

    monkeypatch.setattr(calibrate_module, "load_model", stub_model)
    predicted = []
    predict = calibrate_module.predict_frame

    def counting_predict(net, image, **kwargs):
        predicted.append(image.shape)
        return predict(net, image, **kwargs)

    monkeypatch.setattr(calibrate_module, "predict_frame", counting_predict)
    floors = {}  # the smallest object each calibration scored its settings with
    calibrate_frames = calibrate_module.calibrate_frames

    def recording_calibrate_frames(net, config, frames, device, **kwargs):
        floors[tuple(sorted({f.dataset for f in frames}))] = config.postprocess["min_size"]
        return calibrate_frames(net, config, frames, device, **kwargs)

    monkeypatch.setattr(calibrate_module, "calibrate_frames", recording_calibrate_frames)
    data = [(tmp_path / "Toy-Dense", ["01"]), (tmp_path / "Toy-Sparse", ["01"])]
    config = calibrate_module.calibrate_model(model, data, val_frames=1, device="cpu",
                                              log=lambda *_: None, progress=False)
    # one held-out frame per dataset, then each of the 3 gold frames per dataset once:
    # the per-dataset refinement reuses the pooled one's predictions
    assert len(predicted) == 2 + 2 * 3
    assert config.postprocess["method"] == "watershed"  # pooled: the dense cells decide
    assert config.dataset_postprocess["Toy-Dense"]["method"] == "watershed"
    # on isolated cells the simpler setting ties and keeps its place
    assert config.dataset_postprocess["Toy-Sparse"]["method"] == "components"
    assert set(config.scores["dataset_calibration"]) == {"Toy-Dense", "Toy-Sparse"}
    assert load_config(model).dataset_postprocess == config.dataset_postprocess
    # the smallest object kept: a quarter of the smallest gold objects of each dataset
    assert config.for_dataset("Toy-Sparse").postprocess["min_size"] == round(disc.sum() / 4)
    halves = min((truth == 1).sum(), (truth == 2).sum())
    assert config.for_dataset("Toy-Dense").postprocess["min_size"] == round(halves / 4)
    assert config.postprocess["min_size"] == 2  # pooled: the model's own
    assert config.for_dataset("Unseen") is config
    # each dataset's thresholds were chosen with the floor they are applied with
    assert floors == {("Toy-Dense", "Toy-Sparse"): 2,
                      ("Toy-Dense",): round(halves / 4), ("Toy-Sparse",): round(disc.sum() / 4)}

    # inference takes the setting of the folder's dataset; an unseen dataset the pooled one
    config.postprocess["method"] = "components"
    write_config(model, config)
    monkeypatch.setattr(ctc.pipeline, "load_model", stub_model)
    (tmp_path / "Unseen").mkdir()
    (tmp_path / "Toy-Dense" / "01").rename(tmp_path / "Unseen" / "01")
    unseen = next(ctc.pipeline.segment_frames(model, tmp_path / "Unseen" / "01",
                                              device="cpu"))
    (tmp_path / "Unseen" / "01").rename(tmp_path / "Toy-Dense" / "01")
    dense = next(ctc.pipeline.segment_frames(model, tmp_path / "Toy-Dense" / "01",
                                             device="cpu"))
    assert unseen.max() == 1 and dense.max() == 2


def test_single_dataset_calibration_takes_its_size_floor_from_the_gold_objects(
        tmp_path, monkeypatch):
    import ctc.pipeline
    import ctc.segmentation.calibrate as calibrate_module
    from ctc.segmentation.model import load_config, write_config

    yy, xx = np.mgrid[:40, :60]
    disc = (yy - 20) ** 2 + (xx - 12) ** 2 <= 9 ** 2
    debris = (yy - 20) ** 2 + (xx - 48) ** 2 <= 3 ** 2  # bright, but no cell in the truth
    cell = np.where(disc | debris, 0.95, 0.05)
    write_probability_dataset(tmp_path / "Toy-Lone",
                              np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01)]),
                              disc.astype(np.uint16))
    model = tmp_path / "model"
    model.mkdir()
    write_config(model, ModelConfig(net=TINY, iterations=1, loss={"name": "nfl"},
                                    normalization="minmax",
                                    postprocess={"min_size": 2, "tile": 64, "tta": "none"}))
    monkeypatch.setattr(calibrate_module, "load_model",
                        lambda folder, device="cpu": (load_config(folder), CellFromImage()))
    config = calibrate_module.calibrate_model(model, [(tmp_path / "Toy-Lone", ["01"])],
                                              val_frames=1, device="cpu",
                                              log=lambda *_: None, progress=False)
    assert config.postprocess["min_size"] == round(disc.sum() / 4) > debris.sum()
    assert load_config(model).postprocess["min_size"] == config.postprocess["min_size"]
    assert not config.dataset_postprocess
    # segmented with the calibrated setting, the debris is gone and the cell stays
    monkeypatch.setattr(ctc.pipeline, "load_model",
                        lambda folder, device="cpu": (load_config(folder), CellFromImage()))
    labels = next(ctc.pipeline.segment_frames(model, tmp_path / "Toy-Lone" / "01",
                                              device="cpu"))
    assert labels.max() == 1 and not labels[debris].any() and labels[disc].all()


# --- training, resume, ctc run -------------------------------------------------------


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    """A small CTC dataset: blurred noisy discs (raw) with GT SEG and TRA."""
    root = tmp_path_factory.mktemp("toy") / "Toy-Discs"
    truth = moving_discs(n_frames=6, shape=(64, 64), n_objects=4, seed=1)
    write_gt(truth, root / "01_GT")
    (root / "01").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for t, mask in enumerate(truth.masks):
        raw = ndi.gaussian_filter((mask > 0).astype(np.float32) * 200 + 20, 1.0)
        raw += rng.normal(0, 5, raw.shape)
        tifffile.imwrite(root / "01" / f"t{t:03d}.tif", raw.clip(0, 255).astype(np.uint8))
    return root


def quick(**kwargs) -> TrainConfig:
    base = dict(steps=30, batch=4, crop=32, lr=3e-3, restart=30, val_every=10, val_frames=1,
                device="cpu", augment=Augment(scale=None))
    base.update(kwargs)
    return TrainConfig(**base)


def test_split_threshold_is_a_low_quantile_of_gold_solidity(toy_dataset, tmp_path):
    from skimage.measure import regionprops

    solidity = [r.solidity for path in sorted((toy_dataset / "01_GT" / "SEG").glob("*.tif"))
                for r in regionprops(tifffile.imread(path)) if r.area >= 20]
    value = split_threshold([(toy_dataset, ["01"])], min_size=20)
    assert value == round(float(np.quantile(solidity, 0.01)), 3) and 0.8 < value < 1
    assert value <= np.median(solidity)
    assert split_threshold([(tmp_path, ["01"])]) is None  # no gold segmentation


def test_samples_and_sampler(toy_dataset):
    samples = load_samples(toy_dataset, "01", "GT")
    assert len(samples) == 6 and samples[0].image.dtype == np.float32
    x, y, f = CropSampler(samples, 32, np.random.default_rng(0), Augment()).batch(3)
    assert x.shape == (3, 1, 32, 32) and y.shape == (3, 32, 32) and f is None
    with pytest.raises(CTCInputError, match="silver truth requested"):
        load_samples(toy_dataset, "01", "ST")


def test_normalizations(toy_dataset):
    raw = tifffile.imread(toy_dataset / "01" / "t000.tif")
    linear = sequence_normalization(toy_dataset / "01", "percentile")(raw)
    minmax = sequence_normalization(toy_dataset / "01", "minmax")(raw)
    log = sequence_normalization(toy_dataset / "01", "log")
    assert log.log and 0 < log.offset < 60
    scaled = log(raw)
    assert scaled.dtype == np.float32 and scaled.min() == 0.0
    assert 0.0 <= minmax.min() and minmax.max() <= 1.0
    # Same ordering of grey levels, but the log scale lifts values just above the offset
    # (dim nuclei) much further from zero than the linear one does.
    order = np.argsort(raw.ravel(), kind="stable")
    assert np.all(np.diff(scaled.ravel()[order]) >= 0)
    just_above = raw == int(log.offset) + 5
    assert just_above.any()
    assert scaled[just_above].mean() > 3 * linear[just_above].mean()
    with pytest.raises(ValueError, match="unknown normalization"):
        sequence_normalization(toy_dataset / "01", "zscore")


def test_gamma_augmentation_changes_contrast(toy_dataset):
    samples = load_samples(toy_dataset, "01", "GT")

    def mean_intensity(gamma):
        augment = Augment(scale=None, gain=(1.0, 1.0), noise=0.0, gamma=gamma)
        x, _, _ = CropSampler(samples, 32, np.random.default_rng(3), augment).batch(8)
        return float(x.mean())

    # normalised values lie mostly in [0, 1]: a small gamma lifts them, a large one sinks them
    assert mean_intensity((0.25, 0.25)) > mean_intensity(None) + 0.1
    assert mean_intensity((4.0, 4.0)) < mean_intensity(None) - 0.1


def test_scale_cells_dims_whole_cells_and_keeps_the_background():
    labels = np.zeros((96, 96), np.int32)
    yy, xx = np.mgrid[:96, :96]
    labels[(yy - 30) ** 2 + (xx - 30) ** 2 < 12 ** 2] = 1
    labels[(yy - 64) ** 2 + (xx - 64) ** 2 < 12 ** 2] = 2
    image = np.where(labels > 0, 0.9, 0.1).astype(np.float32)
    target = three_class_target(labels)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        out = scale_cells(image, target, (0.25, 0.25), rng)
        assert out.dtype == np.float32
        assert np.allclose(out[labels == 0][:10], 0.1) and np.allclose(out[:, 90:], 0.1)
        for cell in (1, 2):
            inside = ndi.binary_erosion(labels == cell, iterations=5)
            # the whole cell is dimmed or not: signal above the background times 1 or 0.25
            gain = (out[inside] - 0.1) / 0.8
            assert np.allclose(gain, 1.0, atol=1e-3) or np.allclose(gain, 0.25, atol=1e-3)
            seen.add((cell, round(float(gain.mean()), 2)))
    assert seen == {(1, 1.0), (1, 0.25), (2, 1.0), (2, 0.25)}
    # no cell in the target: the image comes back unchanged
    empty = np.zeros_like(target)
    assert scale_cells(image, empty, (0.25, 0.25), rng) is image


def test_cell_gain_augmentation_dims_the_crops(toy_dataset):
    samples = load_samples(toy_dataset, "01", "GT")

    def mean_intensity(cell_gain):
        augment = Augment(scale=None, gain=(1.0, 1.0), noise=0.0, cell_gain=cell_gain)
        # one crop per seed: the crop is drawn before the cells' gains, so both see the same
        return np.mean([float(CropSampler(samples, 32, np.random.default_rng(seed),
                                          augment).batch(1)[0].mean()) for seed in range(8)])

    assert mean_intensity((0.1, 0.1)) < mean_intensity(None) - 0.1


def test_blur_augmentation_softens_the_crops_and_keeps_the_labels(toy_dataset):
    samples = load_samples(toy_dataset, "01", "GT")

    def crops(blur):
        augment = Augment(scale=None, gain=(1.0, 1.0), noise=0.0, intensity=True, blur=blur)
        return [CropSampler(samples, 32, np.random.default_rng(seed), augment).batch(1)
                for seed in range(12)]

    def roughness(batches):
        return np.mean([float(np.abs(np.diff(x[0, 0].numpy(), axis=-1)).mean())
                        for x, _, _ in batches])

    sharp, soft = crops(None), crops((2.0, 2.0))
    assert roughness(soft) < 0.85 * roughness(sharp)
    # the crop is drawn before the blur: the targets are those of the unblurred crops
    for (_, y_sharp, _), (_, y_soft, _) in zip(sharp, soft, strict=True):
        assert torch.equal(y_sharp, y_soft)


def test_blur_image_blurs_each_context_slice_apart():
    image = np.zeros((3, 9, 9), np.float32)
    image[1, 4, 4] = 1.0
    out = blur_image(image, 1.0)
    assert out.shape == image.shape and out.dtype == np.float32
    assert out[0].max() == 0 and out[2].max() == 0  # no blur across slices
    assert 0 < out[1, 4, 4] < 1 and out[1, 4, 5] > 0
    assert np.isclose(out[1].sum(), 1.0, atol=1e-4)


def test_blur_range_is_checked():
    with pytest.raises(ValueError, match="blur must be"):
        Augment(blur=(1.5, 0.5))


def test_training_lowers_the_loss_and_writes_a_model(toy_dataset, tmp_path):
    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "m",
                   quick(steps=40, val_every=5), progress=False, log=lambda *_: None)
    losses = [h["loss"] for h in config.training["history"]]
    assert np.mean(losses[-3:]) < np.mean(losses[:2])
    loaded, net = load_model(tmp_path / "m")
    assert loaded.scores["validation"]["SEG"] >= 0 and not net.training


def test_half_precision_weights_are_half_the_bytes_and_load_as_float32(tmp_path):
    from ctc.segmentation.model import build_net, save_model

    config = ModelConfig(net=NetConfig(base=8, depth=3))  # big enough that tensors dominate
    torch.manual_seed(0)
    net = build_net(config)
    save_model(tmp_path / "full", config, net)
    save_model(tmp_path / "half", config, net, half=True)
    full, half = (tmp_path / "full" / "weights.pt"), (tmp_path / "half" / "weights.pt")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    stored = torch.load(half, weights_only=True)
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    _, loaded = load_model(tmp_path / "half")
    reference = net.state_dict()
    for name, value in loaded.state_dict().items():
        if value.is_floating_point():
            assert value.dtype == torch.float32
            assert torch.equal(value, reference[name].half().float())
        else:
            assert torch.equal(value, reference[name])
    image = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded(image), net.eval()(image), atol=5e-2)


def test_store_half_converts_a_model_folder_once_and_keeps_its_config(tmp_path):
    from ctc.segmentation.model import build_net, is_half, save_model, store_half

    config = ModelConfig(net=NetConfig(base=8, depth=3), scores={"SEG": 0.5})
    torch.manual_seed(0)
    net = build_net(config)
    save_model(tmp_path / "m", config, net)
    assert not is_half(tmp_path / "m")
    assert store_half(tmp_path / "m") is True
    assert is_half(tmp_path / "m")
    stamp = (tmp_path / "m" / "weights.pt").stat().st_mtime_ns
    assert store_half(tmp_path / "m") is False  # already half: left alone
    assert (tmp_path / "m" / "weights.pt").stat().st_mtime_ns == stamp
    loaded, again = load_model(tmp_path / "m")
    assert loaded.scores == {"SEG": 0.5}
    for name, value in again.state_dict().items():
        if value.is_floating_point():
            assert torch.equal(value, net.state_dict()[name].half().float())
    (tmp_path / "m" / "weights.pt").write_bytes(b"not torch")
    with pytest.raises(CTCInputError, match="unreadable weights"):
        is_half(tmp_path / "m")


def test_bf16_training_learns_and_keeps_float32_weights(toy_dataset, tmp_path):
    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "m",
                   quick(steps=40, val_every=5, bf16=True), progress=False,
                   log=lambda *_: None)
    assert config.training["bf16"] is True
    losses = [h["loss"] for h in config.training["history"]]
    assert np.mean(losses[-3:]) < np.mean(losses[:2])
    state = torch.load(tmp_path / "m" / "weights.pt", weights_only=True)
    assert all(v.dtype == torch.float32 for v in state.values() if v.is_floating_point())


def test_resume_continues_the_same_run(toy_dataset, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "a", quick(steps=20), **quiet)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "b", quick(steps=10), **quiet)
    with pytest.raises(CTCInputError, match="--resume"):
        train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "b", quick(), **quiet)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "b", quick(steps=20),
          resume=True, **quiet)
    a = torch.load(tmp_path / "a" / CHECKPOINT, weights_only=False)
    b = torch.load(tmp_path / "b" / CHECKPOINT, weights_only=False)
    assert a["step"] == b["step"] == 20
    logs = [[json.loads(line) for line in (tmp_path / run / PROGRESS_LOG).read_text().splitlines()]
            for run in ("a", "b")]
    assert [line["step"] for line in logs[0]] == [line["step"] for line in logs[1]] == [10, 20]
    assert all(line["steps_per_second"] > 0 and "SEG" in line for line in logs[1])
    for key, value in a["net"].items():
        torch.testing.assert_close(value, b["net"][key], rtol=0, atol=0)


def test_snapshots_keep_the_weights_of_every_restart(toy_dataset, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "s",
          quick(steps=10, restart=4, snapshots=True, val_every=5), **quiet)
    kept = sorted(p.name for p in (tmp_path / "s" / SNAPSHOTS).iterdir())
    assert kept == ["step-000004.pt", "step-000008.pt"]
    # the last one is the network at step 8, not the best validation or the final weights
    state = torch.load(snapshot_path(tmp_path / "s", 8), weights_only=True)
    final = torch.load(tmp_path / "s" / CHECKPOINT, weights_only=False)["net"]
    assert set(state) == set(final)
    assert any(not torch.equal(state[k], final[k]) for k in state)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "n", quick(steps=4, restart=4),
          **quiet)
    assert not (tmp_path / "n" / SNAPSHOTS).exists()


def test_calibrated_validation_ranks_by_the_best_setting_of_the_grid(toy_dataset, tmp_path):
    from ctc.segmentation.calibrate import default_grid
    from ctc.segmentation.heldout import load_validation, score, validation_frames
    from ctc.segmentation.train import validation_scores

    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "c",
                   quick(steps=20, validation="calibrated"), progress=False,
                   log=lambda *_: None)
    logged = [json.loads(line) for line in (tmp_path / "c" / PROGRESS_LOG).read_text()
              .splitlines()]
    assert [line["step"] for line in logged] == [10, 20] and "SEG" in logged[0]
    config, net = load_model(tmp_path / "c")
    config.postprocess = {k: v for k, v in config.postprocess.items()
                          if k in ("min_size", "tile", "overlap")}  # components, uncalibrated
    frames = load_validation(toy_dataset, "01", validation_frames(toy_dataset, "01", 2),
                             config.normalization)
    fixed = validation_scores(net, frames, config, torch.device("cpu"), "fixed")
    calibrated = validation_scores(net, frames, config, torch.device("cpu"), "calibrated")
    # the grid holds the fixed setting (components), so its best is at least as good
    assert default_grid(config)[0] == {"method": "components"}
    assert score(calibrated) >= score(fixed) - 1e-12
    with pytest.raises(ValueError, match="validation must be one of"):
        quick(validation="test-set")


def test_selecting_at_restarts_keeps_only_the_weights_of_cycle_ends(toy_dataset, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "r",
                   quick(steps=10, restart=4, val_every=3, select="restarts"), **quiet)
    logged = [json.loads(line)["step"] for line in (tmp_path / "r" / PROGRESS_LOG).read_text()
              .splitlines()]
    assert logged == [3, 4, 6, 8, 9, 10]  # cycle ends are validated too
    assert config.scores["step"] in (4, 8)
    short = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "s",
                  quick(steps=3, restart=4, val_every=3, select="restarts"), **quiet)
    assert "step" not in short.scores and (tmp_path / "s" / "weights.pt").is_file()
    with pytest.raises(ValueError, match="select must be one of"):
        quick(select="best-test")


def test_averaged_snapshots_have_the_mean_weights_and_fresh_batch_norm(toy_dataset, tmp_path):
    from ctc.segmentation.averaging import average_states, averaged_network

    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "s",
                   quick(steps=12, restart=4, snapshots=True, val_every=6),
                   progress=False, log=lambda *_: None)
    files = [snapshot_path(tmp_path / "s", step) for step in (4, 8, 12)]
    states = [torch.load(f, weights_only=True) for f in files]
    mean = average_states(states)
    conv = next(k for k in mean if k.endswith("weight") and mean[k].ndim == 4)
    torch.testing.assert_close(mean[conv], (states[0][conv] + states[1][conv]
                                            + states[2][conv]) / 3)
    net = averaged_network(config, files, batches=3)
    got = net.state_dict()
    torch.testing.assert_close(got[conv], mean[conv])
    running = next(k for k in got if k.endswith("running_var"))
    # measured again on training crops, not the mean of the snapshots' statistics
    assert not torch.allclose(got[running], mean[running])
    assert not net.training
    with pytest.raises(ValueError, match="different networks"):
        average_states([states[0], {k: v for k, v in states[1].items() if k != conv}])


def test_universal_training_and_border_task(toy_dataset, tmp_path):
    config = train(ModelConfig(net=TINY, task="border"),
                   [(toy_dataset, ["01"]), (toy_dataset, ["01"])], tmp_path / "u",
                   quick(steps=4, val_every=2), progress=False, log=lambda *_: None)
    assert config.net.out_channels == 4 and config.training["steps_done"] == 4


def test_universal_gold_and_silver_takes_gold_alone_where_no_silver_exists(toy_dataset,
                                                                           tmp_path):
    said = []
    config = train(ModelConfig(net=TINY), [(toy_dataset, ["01"]), (toy_dataset, ["01"])],
                   tmp_path / "u", quick(steps=2, val_every=2, truth="GT+ST"),
                   progress=False, log=said.append)
    assert config.training["steps_done"] == 2
    assert said.count("Toy-Discs 01: no silver truth (01_ST); gold truth only") == 2
    with pytest.raises(CTCInputError, match="silver truth requested but not found"):
        train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "one",
              quick(steps=2, truth="GT+ST"), progress=False, log=lambda *_: None)
    assert not (tmp_path / "one").exists()


def test_fine_tuning_starts_from_the_given_model_and_records_its_data(toy_dataset, tmp_path):
    from ctc.segmentation.model import load_model
    from ctc.segmentation.train import training_datasets

    quiet = dict(progress=False, log=lambda *_: None)
    train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "base",
          quick(steps=4, val_every=2, calibrate=False), **quiet)
    tuned = train(ModelConfig(net=TINY), [(toy_dataset, ["01"])], tmp_path / "tuned",
                  quick(steps=1, val_every=1, lr=1e-12, calibrate=False),
                  init=tmp_path / "base", **quiet)
    assert tuned.training["pretrained_on"] == [str(toy_dataset)]
    assert training_datasets(tuned) == [str(toy_dataset)]
    base, tuned_net = load_model(tmp_path / "base")[1], load_model(tmp_path / "tuned")[1]
    tuned_weights = dict(tuned_net.named_parameters())
    for key, value in base.named_parameters():  # one step at lr 1e-12 moves no weight
        torch.testing.assert_close(value, tuned_weights[key], rtol=0, atol=1e-6)
    with pytest.raises(CTCInputError, match="another network"):
        train(ModelConfig(net=NetConfig(base=4, depth=3)), [(toy_dataset, ["01"])],
              tmp_path / "other", quick(steps=1), init=tmp_path / "base", **quiet)


def test_ctc_train_and_run_produce_a_valid_result(toy_dataset, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", str(toy_dataset), "--out", str(model), "--steps", "30",
                 "--batch", "4", "--crop", "32", "--val-every", "10", "--val-frames", "1",
                 "--device", "cpu", "--no-scale"]) == 0
    capsys.readouterr()
    calibrated = json.loads((model / "config.json").read_text())
    assert calibrated["scores"]["calibration"][0]["method"] == calibrated["postprocess"]["method"]
    assert main(["calibrate", str(model), str(toy_dataset), "--val-frames", "1",
                 "--device", "cpu", "--json"]) == 0
    refine = calibrated["scores"]["refine_calibration"]
    assert calibrated["postprocess"].get("refine") == refine[0]["refine"]
    assert len(refine) == 1 + len(REFINE_FRACTIONS) and all(0 <= r["SEG"] <= 1 for r in refine)
    out = json.loads(capsys.readouterr().out)
    grid = out["grid"]
    assert [r["refine"] for r in out["refine"]] == [r["refine"] for r in refine]
    assert len(grid) == 2 * len(GRIDS["three_class"]) and all(0 <= g["SEG"] <= 1 for g in grid)
    split = split_threshold([(toy_dataset, ["01"])], calibrated["postprocess"]["min_size"])
    assert sum(g.get("split") == split for g in grid) == len(GRIDS["three_class"])
    assert main(["run", str(toy_dataset), "01", "--model", str(model),
                 "--device", "cpu"]) == 0
    assert "VALID" in capsys.readouterr().out
    scores = evaluate(toy_dataset / "01_GT", toy_dataset / "01_RES", "SEG,DET,TRA")
    assert 0 <= scores.SEG <= 1 and 0 <= scores.TRA <= 1
    assert main(["segment", str(model), str(toy_dataset / "01"), str(tmp_path / "seg"),
                 "--device", "cpu"]) == 0
    assert len(list((tmp_path / "seg").glob("mask*.tif"))) == 6
    assert main(["run", str(toy_dataset), "01", "--model", str(tmp_path / "nope")]) == 2


def test_3d_sequence_slice_wise_train_and_run(tmp_path):
    root = tmp_path / "Toy-3D"
    (root / "01").mkdir(parents=True)
    (root / "01_GT" / "SEG").mkdir(parents=True)
    (root / "01_GT" / "TRA").mkdir(parents=True)
    for t in range(3):
        lab = np.zeros((5, 32, 32), np.uint16)
        lab[1:4, 4 + t:14 + t, 4:14] = 1
        lab[1:4, 18:28, 16 + t:26 + t] = 2
        raw = (ndi.gaussian_filter((lab > 0).astype(np.float32), 1) * 200).astype(np.uint8)
        tifffile.imwrite(root / "01" / f"t{t:03d}.tif", raw, photometric="minisblack")
        tifffile.imwrite(root / "01_GT" / "SEG" / f"man_seg{t:03d}.tif", lab,
                         photometric="minisblack")
        tifffile.imwrite(root / "01_GT" / "TRA" / f"man_track{t:03d}.tif", lab,
                         photometric="minisblack")
    (root / "01_GT" / "TRA" / "man_track.txt").write_text("1 0 2 0\n2 0 2 0\n")
    train(ModelConfig(net=TINY), [(root, ["01"])], tmp_path / "m3",
          quick(steps=6, val_every=3), progress=False, log=lambda *_: None)
    assert main(["run", str(root), "01", "--model", str(tmp_path / "m3"), "--device",
                 "cpu"]) == 0
    assert tifffile.imread(root / "01_RES" / "mask000.tif").shape == (5, 32, 32)


def test_prior_correction_undoes_class_weighting():
    from ctc.segmentation.losses import class_weights
    from ctc.segmentation.postprocess import correct_prior

    prob = np.zeros((3, 1, 2))
    prob[:, 0, 0] = (0.3, 0.5, 0.2)   # cell wins only through its weight of 5
    prob[:, 0, 1] = (0.05, 0.9, 0.05)
    corrected = correct_prior(prob, class_weights({"name": "wce"}))
    assert corrected.argmax(0).tolist() == [[0, 1]]
    assert class_weights({"name": "nfl"}) is None
    np.testing.assert_array_equal(correct_prior(prob, None), prob)


# --- tracking markers as a fourth channel ---------------------------------------------


@pytest.fixture(scope="module")
def partly_segmented(toy_dataset, tmp_path_factory):
    """The toy dataset with gold segmentations of frames 0 and 1 only (markers everywhere)."""
    import shutil

    root = tmp_path_factory.mktemp("partial") / "Toy-Partial"
    shutil.copytree(toy_dataset / "01", root / "01")
    shutil.copytree(toy_dataset / "01_GT", root / "01_GT")
    for t in range(2, 6):
        (root / "01_GT" / "SEG" / f"man_seg{t:03d}.tif").unlink()
    return root


def test_marker_samples_cover_unsegmented_frames(partly_segmented):
    samples = load_samples(partly_segmented, "01", "GT", markers=True)
    assert [s.annotated for s in samples] == [True] * 2 + [False] * 4
    for t, s in enumerate(samples):
        marks = tifffile.imread(partly_segmented / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
        np.testing.assert_array_equal(s.extra, marker_target(marks))
        assert ((s.extra > 0) <= (marks > 0)).all() and s.extra.max() == MARKER_LEVELS
    assert all((s.target == IGNORE).all() for s in samples[2:])
    weights = balanced_weights(samples)
    assert weights[:2].sum() == pytest.approx(weights[2:].sum())
    # without markers only the segmented frames train, and no fourth target exists
    plain = load_samples(partly_segmented, "01", "GT")
    assert len(plain) == 2 and plain[0].extra is None
    # crops of marker-only frames centre on markers; their class target stays unknown
    sampler = CropSampler(samples[2:], 16, np.random.default_rng(0), Augment(scale=None),
                          object_fraction=1.0)
    x, y, f = sampler.batch(4)
    assert (y == IGNORE).all() and f is not None and (f == MARKER_LEVELS).any()
    with pytest.raises(ValueError, match="three_class"):
        load_samples(partly_segmented, "01", "GT", task="border", markers=True)


def test_marker_loss_learns_from_frames_without_segmentation():
    config = ModelConfig(net=TINY, markers=True)
    assert config.net.out_channels == 4
    with pytest.raises(ValueError, match="markers go with the three_class"):
        ModelConfig(net=TINY, task="border", markers=True)
    logits = torch.zeros(2, 4, 8, 8, requires_grad=True)
    target = torch.full((2, 8, 8), IGNORE, dtype=torch.long)
    marks = torch.zeros((2, 8, 8), dtype=torch.long)
    marks[:, 2:5, 2:5] = MARKER_LEVELS
    loss = _task_loss(config, make_loss("wce"), logits, target, marks)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() == pytest.approx(np.log(2), rel=1e-5)
    assert logits.grad[:, :3].abs().sum() == 0 and logits.grad[:, 3].abs().sum() > 0


def test_marker_seeds_split_touching_nuclei_without_a_visible_boundary():
    yy, xx = np.mgrid[:40, :64]
    truth = np.zeros((40, 64), np.uint16)
    truth[(yy - 20) ** 2 + (xx - 20) ** 2 <= 11 ** 2] = 1
    truth[((yy - 20) ** 2 + (xx - 41) ** 2 <= 11 ** 2) & (truth == 0)] = 2
    cell = np.where(truth > 0, 0.9, 0.05)  # the class channels see one blob
    # the marker channel: a centre-ness cone per nucleus, as trained
    marker = marker_target(truth) / MARKER_LEVELS
    prob = np.stack([1 - cell - 0.01, cell, np.full_like(cell, 0.01), marker])
    assert three_class_instances(prob, iterations=1, min_size=1).max() == 1
    split = three_class_instances(prob, iterations=1, min_size=1, method="markers",
                                  seed_threshold=0.5)
    m = match_frame(truth, split)
    assert split.max() == 2 and len(m.match_ref) == 2 and m.jaccard().min() > 0.85
    # nuclei whose centres the marker channel is unsure of are kept whole, not dropped,
    # or split by their shape when asked to
    faint = prob.copy()
    faint[3] *= 0.2
    assert three_class_instances(faint, iterations=1, min_size=1, method="markers").max() == 1
    by_shape = three_class_instances(faint, iterations=1, min_size=1, method="markers",
                                     h=2.0)
    m = match_frame(truth, by_shape)
    assert by_shape.max() == 2 and m.jaccard().min() > 0.85
    with pytest.raises(ValueError, match="marker channel"):
        three_class_instances(prob[:3], method="markers")


def test_ctc_train_with_markers(partly_segmented, tmp_path):
    model = tmp_path / "marked"
    assert main(["train", str(partly_segmented), "--out", str(model), "--markers",
                 "--steps", "6", "--batch", "2", "--crop", "32", "--val-every", "3",
                 "--val-frames", "1", "--device", "cpu", "--no-scale"]) == 0
    config, net = load_model(model)
    assert config.markers and config.net.out_channels == 4
    methods = [r["method"] for r in config.scores["calibration"]]
    split = split_threshold([(partly_segmented, ["01"])], config.postprocess["min_size"])
    assert len(methods) == len(default_grid(config, split)) and methods.count(
        "markers") == 2 * len(MARKER_GRID)
    assert main(["train", str(partly_segmented), "--out", str(tmp_path / "bad"), "--markers",
                 "--task", "border", "--steps", "1"]) == 2


def test_distance_targets_come_from_the_segmentation_without_tra(partly_segmented, tmp_path):
    import shutil

    samples = load_samples(partly_segmented, "01", "GT", markers=True,
                           markers_from="segmentation")
    assert len(samples) == 2 and all(s.annotated for s in samples)  # no marker-only frames
    for t, s in enumerate(samples):
        labels = tifffile.imread(partly_segmented / "01_GT" / "SEG" / f"man_seg{t:03d}.tif")
        np.testing.assert_array_equal(s.extra, marker_target(labels))
        assert s.extra.max() == MARKER_LEVELS and ((s.extra > 0) <= (labels > 0)).all()
    # a cell the annotation leaves out (its TRA marker shows it) is unknown, not background
    root = tmp_path / "Toy-Missing"
    shutil.copytree(partly_segmented, root)
    seg = root / "01_GT" / "SEG" / "man_seg000.tif"
    labels = tifffile.imread(seg)
    dropped = int(labels[labels > 0][0])
    tifffile.imwrite(seg, np.where(labels == dropped, 0, labels).astype(labels.dtype))
    first = load_samples(root, "01", "GT", markers=True, markers_from="segmentation")[0]
    assert (first.extra[labels == dropped] == IGNORE).all()
    assert (first.target[labels == dropped] == IGNORE).all()
    # no TRA needed
    shutil.rmtree(root / "01_GT" / "TRA")
    assert len(load_samples(root, "01", "GT", markers=True, markers_from="segmentation")) == 2
    with pytest.raises(CTCInputError, match="no tracking markers"):
        load_samples(root, "01", "GT", markers=True)
    with pytest.raises(ValueError, match="markers_from goes with markers"):
        ModelConfig(net=TINY, markers_from="segmentation")


def test_ctc_train_with_distance(partly_segmented, tmp_path, capsys, monkeypatch):
    from ctc.tracking import calibrate as tracking_calibrate
    from ctc.tracking.calibrate import choose_split_merged

    score = tracking_calibrate._score

    model = tmp_path / "distance"
    assert main(["train", str(partly_segmented), "--out", str(model), "--distance",
                 "--steps", "6", "--batch", "2", "--crop", "32", "--val-every", "3",
                 "--val-frames", "1", "--device", "cpu", "--no-scale", "--tracking"]) == 0
    config, _ = load_model(model)
    assert config.markers and config.markers_from == "segmentation"
    # --tracking: the shortest track kept, chosen on the whole training sequence
    lengths = [r["min_track_length"] for r in config.scores["track_length_calibration"]]
    assert config.tracking["min_track_length"] in lengths and 0 in lengths
    # and, before it, the smallest object kept: the gold-size floor or a larger candidate
    floors = [r["min_size"] for r in config.scores["size_floor_calibration"]]
    assert config.postprocess["min_size"] in floors and floors == sorted(floors)
    assert len(floors) > 1 and all(len(r["sequences"]) == 1
                                   for r in config.scores["size_floor_calibration"])
    # and, between them, whether merged objects are cut apart
    cuts = config.scores["split_merged_calibration"]
    assert [r["split_merged"] for r in cuts] == [False, True]
    assert config.tracking["split_merged"] == choose_split_merged(cuts)
    # each step's base row is the row the step before it chose, scored once
    chosen_floor = next(r for r in config.scores["size_floor_calibration"]
                        if r["min_size"] == config.postprocess["min_size"])
    assert cuts[0]["sequences"] == chosen_floor["sequences"]
    chosen_cut = next(r for r in cuts if r["split_merged"] == config.tracking["split_merged"])
    assert config.scores["track_length_calibration"][0]["sequences"] == chosen_cut["sequences"]
    # calibrated again, every floor is scored again from where the first calibration
    # started (not only those above the floor it chose)
    capsys.readouterr()
    scored = []

    def counted(sequences, config, scratch):
        scored.append(config)
        return score(sequences, config, scratch)

    monkeypatch.setattr(tracking_calibrate, "_score", counted)
    assert main(["calibrate", str(model), str(partly_segmented), "--val-frames", "1",
                 "--device", "cpu", "--tracking"]) == 0
    assert f"(of {', '.join(map(str, floors))})" in capsys.readouterr().out
    again = load_model(model)[0].scores["size_floor_calibration"]
    assert [r["min_size"] for r in again] == floors
    # one tracking per floor, one with the cut, one per track length above 0
    assert len(scored) == len(floors) + 1 + len(tracking_calibrate.TRACK_LENGTHS) - 1
    assert main(["train", str(partly_segmented), "--out", str(tmp_path / "x"), "--tracking",
                 "--no-calibrate", "--steps", "1"]) == 2
    assert config.net.out_channels == 4
    assert "markers" in [r["method"] for r in config.scores["calibration"]]
    assert main(["train", str(partly_segmented), "--out", str(tmp_path / "bad"), "--markers",
                 "--distance", "--steps", "1"]) == 2


def test_universal_step_is_one_optimizer_step_with_equal_dataset_weights():
    """Three synthetic datasets of 1,000, 30 and 2 images: one round draws one minibatch of
    each, the optimiser steps once, and each dataset's gradient weighs 1/3."""
    from ctc.segmentation.train import accumulated_step

    class Dataset:
        def __init__(self, value: float, size: int, seed: int):
            self.images = torch.full((size,), value)
            self.rng = np.random.default_rng(seed)
            self.draws = 0

        def batch(self, n: int) -> torch.Tensor:
            self.draws += 1
            return self.images[self.rng.integers(0, len(self.images), n)]

    class CountingSGD(torch.optim.SGD):
        steps = 0

        def step(self, closure=None):
            CountingSGD.steps += 1
            return super().step(closure)

    w = torch.nn.Parameter(torch.zeros(()))
    optimizer = CountingSGD([w], lr=1.0)
    datasets = [Dataset(1.0, 1000, 0), Dataset(4.0, 30, 1), Dataset(-2.0, 2, 2)]
    loss = accumulated_step(optimizer, datasets, lambda d: torch.mean((w - d.batch(4)) ** 2))
    assert CountingSGD.steps == 1 and [d.draws for d in datasets] == [1, 1, 1]
    # d/dw of mean over datasets of (w - v)^2 at w = 0: mean of -2 v = -2 (1 + 4 - 2) / 3 = -2
    assert float(w.detach()) == pytest.approx(2.0)
    assert loss == pytest.approx((1 + 16 + 4) / 3)
    # weighting by size would have moved w to about 2 * (1000 + 120 - 4) / 1032 = 2.16


def test_joint_step_weighs_datasets_like_accumulation_and_keeps_batch_norm_consistent():
    """The one-forward round takes one optimiser step with the same gradient as the
    per-dataset accumulation, and leaves batch-norm running statistics at the mixture of
    the datasets (what inference uses), where per-dataset forwards do not."""
    from ctc.segmentation.train import accumulated_step, has_batch_norm, joint_step

    gen = torch.Generator().manual_seed(0)
    sets = [torch.randn(4, 3, generator=gen) * s + m for s, m in ((1, 0), (3, 5), (0.5, -4))]
    targets = [torch.randn(4, 1, generator=gen) for _ in sets]

    def fresh():
        torch.manual_seed(1)
        return torch.nn.Linear(3, 1)

    def per_dataset(net, i):
        return torch.mean((net(sets[i]) - targets[i]) ** 2)

    grads = []
    for kind in ("accumulated", "joint"):
        net = fresh()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.0)
        if kind == "accumulated":
            accumulated_step(optimizer, [0, 1, 2], lambda i, net=net: per_dataset(net, i))
        else:
            def round_losses(indices, net=net):
                out = net(torch.cat([sets[i] for i in indices]))
                return [torch.mean((out[4 * i:4 * i + 4] - targets[i]) ** 2) for i in indices]
            joint_step(optimizer, [0, 1, 2], round_losses)
        grads.append(torch.cat([p.grad.ravel() for p in net.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)
    assert not has_batch_norm(torch.nn.Linear(3, 1))

    # batch norm with momentum 1: the running mean is the last batch's mean
    mixture = torch.cat(sets).mean(0)
    bn = torch.nn.BatchNorm1d(3, momentum=1.0)
    assert has_batch_norm(torch.nn.Sequential(bn))
    optimizer = torch.optim.SGD(bn.parameters(), lr=0.0)
    joint_step(optimizer, [0, 1, 2], lambda idx: [bn(torch.cat([sets[i] for i in idx]))[
        4 * i:4 * i + 4].pow(2).mean() for i in idx])
    assert torch.allclose(bn.running_mean, mixture, atol=1e-5)
    bn.reset_running_stats()
    accumulated_step(optimizer, [0, 1, 2], lambda i: bn(sets[i]).pow(2).mean())
    assert not torch.allclose(bn.running_mean, mixture, atol=0.5)


def test_class_map_and_overwriting_post_processing_match_the_plain_forms():
    """The memory-sparing forms used at inference give the labels of the plain ones:
    the uint8 class map is argmax (ties to the first class), and post-processing that
    may overwrite its probabilities labels as one that copies them."""
    from ctc.segmentation.postprocess import class_map, instances

    rng = np.random.default_rng(0)
    prob = rng.random((3, 6, 40, 40)).astype(np.float32)
    prob[:, 0, :5] = 0.5  # three-way ties
    prob[2, 1, :5] = prob[1, 1, :5]  # cell-boundary ties
    prob /= prob.sum(0)
    assert class_map(prob).dtype == np.uint8
    assert np.array_equal(class_map(prob), prob.argmax(0))
    # two touching discs in every slice, a boundary ring around each, noise on top
    yy, xx = np.mgrid[:40, :40]
    discs = [(yy - 20) ** 2 + (xx - cx) ** 2 <= 8 ** 2 for cx in (11, 27)]
    rim = np.zeros((40, 40), bool)
    for d in discs:
        rim |= d & ~ndi.binary_erosion(d, iterations=2)
    inside = (discs[0] | discs[1]) & ~rim
    smooth = np.where(inside, [[[0.05]], [[0.9]], [[0.05]]],
                      np.where(rim, [[[0.1]], [[0.3]], [[0.6]]], [[[0.9]], [[0.05]], [[0.05]]]))
    smooth = np.repeat(smooth[:, None], 6, axis=1) + rng.random((3, 6, 40, 40)) * 0.1
    smooth = (smooth / smooth.sum(0)).astype(np.float32)
    for method in ("components", "watershed", "distance"):
        for weights in (None, (1.0, 2.0, 5.0)):
            kept = smooth.copy()
            plain = instances(kept, "three_class", method=method, class_weights=weights,
                              min_size=2, spacing=(2.0, 1.0, 1.0))
            assert np.array_equal(kept, smooth)  # not overwritten unless allowed
            scratch = smooth.copy()
            fast = instances(scratch, "three_class", method=method, class_weights=weights,
                             min_size=2, spacing=(2.0, 1.0, 1.0), overwrite=True)
            assert np.array_equal(plain, fast) and plain.max() > 0
