"""3D volumes: 2D predictions of the slices stacked into 3D instances; 3D tracking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi

from ctc.errors import CTCInputError
from ctc.metrics.matching import match_frame
from ctc.segmentation.model import ModelConfig
from ctc.segmentation.postprocess import instances
from ctc.segmentation.rshn import RSHNConfig
from ctc.segmentation.segment import segment_image
from ctc.segmentation.targets import three_class_target


def nuclei_volume(shape=(12, 64, 64), z_ratio=3.0) -> np.ndarray:
    """Three ellipsoidal nuclei (z voxels `z_ratio` times as long): two touching, one apart."""
    z, y, x = np.indices(shape, dtype=float)
    labels = np.zeros(shape, np.uint16)
    for label, (cz, cy, cx, r) in enumerate([(6, 20, 18, 10), (6, 20, 37, 10),
                                             (5, 46, 44, 9)], start=1):
        inside = (((z - cz) * z_ratio) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) <= r * r
        labels[inside & (labels == 0)] = label
    assert np.count_nonzero((labels[:, :, 27:29] > 0).all(axis=2)) > 0  # 1 and 2 touch
    return labels


def one_hot(classes: np.ndarray) -> np.ndarray:
    return np.stack([(classes == c).astype(np.float32) for c in range(3)])


def assert_bodies(labels: np.ndarray, truth: np.ndarray) -> None:
    """Each label is one connected 3D body, and each true nucleus is found (IoU > 0.6)."""
    found = [int(v) for v in np.unique(labels) if v]
    for value in found:
        assert ndi.label(labels == value)[1] == 1, value
        assert np.unique(np.nonzero(labels == value)[0]).size > 1  # spans several slices
    assert len(found) == int(truth.max())
    for value in range(1, int(truth.max()) + 1):
        overlap = np.bincount(labels[truth == value].ravel(), minlength=labels.max() + 1)
        best = int(overlap[1:].argmax()) + 1
        iou = overlap[best] / np.count_nonzero((truth == value) | (labels == best))
        assert iou > 0.6, (value, iou)


@pytest.mark.parametrize("method", ["components", "watershed", "distance"])
def test_stacked_slice_probabilities_give_3d_bodies_that_keep_touching_nuclei_apart(method):
    truth = nuclei_volume()
    prob = np.stack([one_hot(three_class_target(s)) for s in truth], axis=1)
    labels = instances(prob, "three_class", method=method, min_size=10,
                       spacing=(3.0, 1.0, 1.0), h=2.0 if method == "distance" else None)
    assert labels.shape == truth.shape and labels.dtype == np.uint16
    assert_bodies(labels, truth)
    match = match_frame(truth, labels)  # the toolkit's SEG matching: every nucleus matched
    assert len(match.match_ref) == 3 and match.jaccard().min() > 0.6


class ThresholdNet(torch.nn.Module):
    """A stand-in network: cell where the normalised intensity exceeds 0.5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cell = (x > 0.5).float()
        return torch.cat([10 * (1 - cell), 10 * cell, torch.zeros_like(x)], dim=1)


def test_segment_image_labels_a_volume_in_3d_not_slice_by_slice():
    truth = nuclei_volume()
    truth[truth == 2] = 0  # separate nuclei: one label each through all their slices
    image = (truth > 0).astype(np.float32)
    config = ModelConfig(postprocess={"min_size": 10, "tta": "none"})
    labels = segment_image(ThresholdNet(), config, image, "cpu", tta="none")
    assert_bodies(labels, np.unique(truth, return_inverse=True)[1].reshape(truth.shape))
    rshn = ModelConfig(arch="rshn", task="embedding", net=RSHNConfig())
    with pytest.raises(CTCInputError, match="2D frames only"):
        segment_image(ThresholdNet(), rshn, image, "cpu")


def test_voxel_spacing_comes_from_the_registry(tmp_path):
    from ctc.datasets import relative_spacing

    assert relative_spacing(tmp_path / "Fluo-N3DH-CHO" / "01") == pytest.approx(
        (1.0 / 0.202, 1.0, 1.0))
    assert relative_spacing(tmp_path / "Fluo-C3DH-H157" / "02") == pytest.approx(
        (0.5 / 0.126, 1.0, 1.0))
    assert relative_spacing(tmp_path / "Fluo-N2DH-GOWT1" / "01") is None  # 2D
    assert relative_spacing(tmp_path / "Fluo-N3DL-TRIC" / "01") is None  # size unknown
    assert relative_spacing(tmp_path / "My-Own-Data" / "01") is None


def test_tracking_3d_sequences_with_divisions_scores_like_2d(tmp_path):
    from ctc.metrics import evaluate
    from ctc.toy import moving_discs, write_gt
    from ctc.tracking import TrackingConfig, track_to_result

    truth = moving_discs(n_frames=12, shape=(96, 96), n_objects=3, divide_every=5, seed=4)
    assert len(truth.parents) > 3 and any(truth.parents.values())  # it divides
    # the 2D discs extruded through 5 slices
    truth3d = type(truth)([np.repeat(m[None], 5, axis=0) for m in truth.masks], truth.parents)
    write_gt(truth3d, tmp_path / "01_GT")
    config = TrackingConfig(spacing=(4.0, 1.0, 1.0))
    track_to_result(truth3d.masks, tmp_path / "01_RES", config)
    scores = evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG,DET,TRA")
    track_to_result(truth.masks, tmp_path / "2d_RES", TrackingConfig())
    write_gt(truth, tmp_path / "2d_GT")
    flat = evaluate(tmp_path / "2d_GT", tmp_path / "2d_RES", "SEG,DET,TRA")
    assert scores.SEG == scores.DET == 1.0
    assert scores.TRA == flat.TRA and scores.TRA > 0.95


def test_distances_in_3d_count_the_z_spacing():
    from ctc.tracking import TrackingConfig, track

    frames = [np.zeros((12, 20, 20), np.uint16) for _ in range(2)]
    frames[0][2, 9:11, 9:11] = 1  # a small nucleus that jumps 6 slices: no overlap
    frames[1][8, 9:11, 9:11] = 1
    linked = track(frames, TrackingConfig(max_displacement=10, division=False))[1]
    assert len(linked) == 1  # 6 voxels: within reach
    apart = track(frames, TrackingConfig(max_displacement=10, division=False,
                                         spacing=(5.0, 1.0, 1.0)))[1]
    assert len(apart) == 2  # 30 x-pixels: beyond reach
    with pytest.raises(ValueError, match="spacing must be 2 or 3 positive sizes"):
        TrackingConfig(spacing=(0.0, 1.0, 1.0))
    assert TrackingConfig.from_dict({"spacing": [2, 1, 1]}).spacing == (2.0, 1.0, 1.0)


@pytest.mark.parametrize("slice_gt", [False, True])
def test_training_on_3d_data_validates_and_calibrates_in_3d(tmp_path, slice_gt):
    from ctc.segmentation.data import Augment
    from ctc.segmentation.heldout import load_validation, validation_frames
    from ctc.segmentation.nets import NetConfig
    from ctc.segmentation.train import TrainConfig, train
    from ctc.synth import SynthConfig, synth_dataset

    data = tmp_path / "Fluo-N3DH-SYNTH"
    synth_dataset(data, SynthConfig(shape=(64, 64), frames=6, cells=3, radius=(8.0, 10.0),
                                    cycle=(20, 30), entries=0.0, depth=6, z_step=3.0),
                  ("01",), slice_gt=slice_gt)
    held = validation_frames(data, "01", 2)
    frames = load_validation(data, "01", held, "percentile")
    assert frames and all(f.image.ndim == 3 for f in frames)
    assert all((f.z is not None) == slice_gt and f.seg.ndim == (2 if slice_gt else 3)
               for f in frames)
    config = train(ModelConfig(net=NetConfig(base=4, depth=2)), [(data, ["01"])],
                   tmp_path / "model",
                   TrainConfig(steps=4, batch=2, crop=32, val_every=2, val_frames=2,
                               device="cpu", augment=Augment(scale=None)),
                   progress=False, log=lambda *_: None)
    history = config.training["history"]
    assert [h["step"] for h in history] == [2, 4]
    assert all(0 <= h["SEG"] <= 1 and 0 <= h["DET"] <= 1 for h in history)  # scored in 3D
    assert config.scores["calibration"]  # post-processing chosen on the 3D held-out frames


def test_slice_context_stacks_neighbours_and_repeats_at_the_faces():
    from ctc.segmentation.data import slice_context

    volume = np.arange(4)[:, None, None] * np.ones((4, 2, 3))
    assert slice_context(volume, 2, 0).shape == (2, 3)
    np.testing.assert_array_equal(slice_context(volume, 0, 1)[:, 0, 0], [0, 0, 1])
    np.testing.assert_array_equal(slice_context(volume, 3, 2)[:, 0, 0], [1, 2, 3, 3, 3])
    flat = volume[1]
    np.testing.assert_array_equal(slice_context(flat, None, 1), np.stack([flat] * 3))


def test_slice_context_model_trains_on_volumes_and_segments_2d_and_3d(tmp_path):
    from ctc.segmentation.data import Augment, CropSampler, load_samples
    from ctc.segmentation.model import load_model
    from ctc.segmentation.nets import NetConfig
    from ctc.segmentation.train import TrainConfig, train
    from ctc.synth import SynthConfig, synth_dataset

    data = tmp_path / "Fluo-N3DH-SYNTH"
    synth_dataset(data, SynthConfig(shape=(64, 64), frames=4, cells=3, radius=(8.0, 10.0),
                                    cycle=(20, 30), entries=0.0, depth=6, z_step=3.0),
                  ("01",), slice_gt=True)
    samples = load_samples(data, "01", context=1)
    assert all(s.image.shape == (3, 64, 64) and s.target.shape == (64, 64) for s in samples)
    sampler = CropSampler(samples, 32, np.random.default_rng(0), Augment(elastic=True))
    x, y, _ = sampler.batch(2)
    assert x.shape == (2, 3, 32, 32) and y.shape == (2, 32, 32)
    config = train(ModelConfig(net=NetConfig(base=4, depth=2), context=1), [(data, ["01"])],
                   tmp_path / "model",
                   TrainConfig(steps=2, batch=2, crop=32, val_every=2, val_frames=2,
                               device="cpu", augment=Augment(scale=None)),
                   progress=False, log=lambda *_: None)
    assert config.context == 1 and config.net.in_channels == 3
    config, net = load_model(tmp_path / "model")
    volume = np.random.default_rng(1).random((5, 40, 48), dtype=np.float32)
    assert segment_image(net, config, volume, "cpu").shape == (5, 40, 48)
    assert segment_image(net, config, volume[0], "cpu").shape == (40, 48)
    with pytest.raises(ValueError, match="slice context goes with the unet"):
        ModelConfig(arch="rshn", task="embedding", net=RSHNConfig(), context=1)
