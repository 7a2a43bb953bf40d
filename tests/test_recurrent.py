"""Recurrent networks: ConvGRU, GRU-U-Net, RSHN, cosine embeddings, clustering, merging."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ctc.metrics.matching import match_frame
from ctc.segmentation.convgru import ConvGRU
from ctc.segmentation.embedding import cluster_embeddings, cosine_embedding_loss, link_frame_pair
from ctc.segmentation.gruunet import GRUUConfig, GRUUNet
from ctc.segmentation.nets import count_parameters
from ctc.segmentation.rshn import RSHN, RSHNConfig


def test_convgru_keeps_state_and_resets():
    torch.manual_seed(0)
    gru = ConvGRU(2, 4)
    x = torch.randn(1, 2, 8, 9)
    first = gru(x).detach().clone()
    second = gru(x).detach().clone()
    assert not torch.allclose(first, second)        # the state carried over
    gru.reset()
    torch.testing.assert_close(gru(x), first)      # same as a fresh start
    assert gru(torch.randn(1, 2, 5, 5)).shape == (1, 4, 5, 5)  # new size: fresh state


def test_gruunet_odd_sizes_and_parameter_budget():
    net = GRUUNet(GRUUConfig()).eval()
    assert count_parameters(net) < 1_000_000
    with torch.no_grad():
        for h, w in ((37, 53), (16, 17)):
            assert net(torch.randn(1, 1, h, w)).shape == (1, 3, h, w)


def test_rshn_odd_sizes_and_frame_recurrence():
    torch.manual_seed(0)
    net = RSHN(RSHNConfig(channels=8, levels=3, embedding=4)).eval()
    x = torch.randn(1, 1, 29, 35)
    with torch.no_grad():
        e1, e2 = net(x)
        assert e1.shape == e2.shape == (1, 4, 29, 35)
        again = net(x)[1]
        net.reset()
        fresh = net(x)[1]
    assert not torch.allclose(e2, again)
    torch.testing.assert_close(fresh, e2)


def toy_instances():
    lab = np.zeros((40, 40), np.int64)
    lab[2:12, 2:12] = 1
    lab[2:12, 14:24] = 2
    lab[20:35, 20:35] = 3
    return lab


def perfect_embedding(lab, d=8, flip=(2,)):
    emb = np.zeros((d,) + lab.shape)
    emb[0] = 1.0
    for i in np.unique(lab[lab > 0]):
        emb[:, lab == i] = 0
        emb[i, lab == i] = -1.0 if i in flip else 1.0
    return emb


def test_rshn_embedding_follows_the_image_at_initialisation():
    # Without normalisation layers, the default initialisation left the output the
    # biases' constant direction; training could not leave that collapse.
    torch.manual_seed(0)
    net = RSHN(RSHNConfig())
    image = torch.zeros(1, 1, 64, 64)
    image[..., 16:40, 20:44] = 0.3            # one dim square cell on a dark background
    net.reset()
    with torch.no_grad():
        e = torch.nn.functional.normalize(net(image)[1], dim=1).reshape(16, -1)
    mean = torch.nn.functional.normalize(e.mean(1), dim=0)
    assert float((mean @ e).abs().mean()) < 0.99
    for conv in (m for m in net.modules() if isinstance(m, torch.nn.Conv2d)):
        assert not conv.bias.any()


def test_hourglass_configs_written_before_normalisation_load_as_published():
    from ctc.segmentation.model import ModelConfig

    old = ModelConfig.from_dict({"arch": "rshn", "task": "embedding",
                                 "net": {"channels": 8, "levels": 2}})
    assert old.net.norm == "none"
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in RSHN(old.net).modules())
    new = ModelConfig.from_dict(ModelConfig(arch="rshn", task="embedding",
                                            net=RSHNConfig(channels=8, levels=2)).to_dict())
    assert new.net.norm == "group"
    assert any(isinstance(m, torch.nn.GroupNorm) for m in RSHN(new.net).modules())
    with pytest.raises(ValueError, match="norm must be one of"):
        RSHNConfig(norm="batch")


def test_cosine_loss_zero_when_perfect_positive_when_neighbours_share():
    lab = toy_instances()
    emb = perfect_embedding(lab)
    loss = cosine_embedding_loss(torch.tensor(emb[None]).float(), torch.tensor(lab[None]))
    assert float(loss) < 1e-6
    shared = emb.copy()
    shared[:, lab == 2] = emb[:, lab == 1][:, :1]
    worse = cosine_embedding_loss(torch.tensor(shared[None]).float(), torch.tensor(lab[None]))
    assert float(worse) > 0.05
    # dot-only markers on a frame without full segmentation: unknown pixels are ignored
    dots = np.full(lab.shape, -1)
    dots[6, 6], dots[6, 18] = 1, 2
    partial = cosine_embedding_loss(torch.tensor(emb[None]).float(), torch.tensor(dots[None]),
                                    full=torch.tensor([False]))
    assert float(partial) < 1e-6


def test_a_cell_the_segmentation_missed_is_unknown_locally_not_frame_wide():
    from ctc.segmentation.sequences import UNKNOWN, track_labels

    seg = np.zeros((40, 60), np.uint16)
    seg[5:15, 5:15] = 7                       # segmented cell, marker 1
    seg[25:35, 5:15] = 8                      # segmented cell, marker 2
    markers = np.zeros_like(seg)
    markers[9:11, 9:11], markers[29:31, 9:11] = 1, 2
    markers[19:21, 44:46] = 3                 # a cell the segmentation missed
    labels, full = track_labels(seg, markers)
    assert full                               # background stays known elsewhere
    assert (labels[seg == 7] == 1).all() and (labels[seg == 8] == 2).all()
    assert (labels[markers == 3] == 3).all()  # the missed cell keeps its dot
    radius = 1.5 * np.sqrt(100 / np.pi)       # 1.5 median radii of the objects
    ys, xs = np.nonzero(labels == UNKNOWN)
    distance = np.hypot(ys - 19.5, xs - 44.5)
    assert distance.max() <= radius + 1.5 and (labels[20, 44 - 7] == UNKNOWN)
    assert labels[0, 30] == 0 and labels[39, 59] == 0     # far away: background
    # a constant embedding no longer fits such a frame for free
    const = torch.zeros(1, 4, 40, 60)
    const[:, 1] = 1.0
    loss = cosine_embedding_loss(const, torch.tensor(labels[None]), torch.tensor([full]))
    assert float(loss) > 0.2
    # complete segmentation: as before; no segmentation: dots and no background
    labels, full = track_labels(seg, np.where(markers == 3, 0, markers))
    assert full and (labels >= 0).all()
    labels, full = track_labels(None, markers)
    assert not full and set(np.unique(labels)) == {UNKNOWN, 1, 2, 3}


def test_large_touching_cells_are_neighbours_far_cells_are_not():
    lab = np.zeros((1, 120, 260), np.int64)
    lab[0, 10:110, 10:110] = 1                # two 100 px cells touching: centres 100 px apart
    lab[0, 10:110, 110:210] = 2
    lab[0, 50:60, 240:250] = 3                # a small cell 30 px from cell 2
    emb = torch.zeros(1, 4, 120, 260)
    emb[0, 1] = 1.0                           # every cell shares one direction
    labels = torch.tensor(lab)
    shared = float(cosine_embedding_loss(emb, labels))
    apart = emb.clone()
    apart[0, :, lab[0] == 2] = torch.tensor([0.0, 0.0, 1.0, 0.0])[:, None]
    assert shared - float(cosine_embedding_loss(apart, labels)) > 0.05  # 1 and 2 repel
    far = emb.clone()
    far[0, :, lab[0] == 3] = torch.tensor([0.0, 0.0, 0.0, 1.0])[:, None]
    assert float(cosine_embedding_loss(far, labels)) == pytest.approx(shared)  # 3 is no one's
    assert float(cosine_embedding_loss(far, labels, neighbour_gap=40)) < shared


def test_mean_shift_recovers_instances_exactly():
    lab = toy_instances()
    noisy = perfect_embedding(lab) + np.random.default_rng(0).normal(0, 0.05, (8, 40, 40))
    out = cluster_embeddings(noisy, min_size=5)
    m = match_frame(lab.astype(np.uint16), out)
    assert len(np.unique(out)) == 4 and len(m.match_ref) == 3
    np.testing.assert_array_equal(m.jaccard(), 1.0)


def test_frame_pair_merging_gives_daughters_new_ids_and_parent():
    previous = np.zeros((20, 20), np.int64)
    previous[5:15, 5:15] = 7                 # the mother, sequence-wide id 7
    previous[0:3, 17:20] = 9
    pair_prev = np.where(previous == 7, 1, np.where(previous == 9, 2, 0))
    pair_curr = np.zeros_like(previous)
    pair_curr[0:3, 17:20] = 2                # id 2 continues
    pair_curr[4:10, 5:15] = 3                # two daughters, absent from frame t-1
    pair_curr[10:16, 5:15] = 4
    current, parents, next_id = link_frame_pair(previous, pair_prev, pair_curr, next_id=10)
    assert set(np.unique(current)) == {0, 9, 10, 11} and next_id == 12
    assert parents == {10: 7, 11: 7}
    assert (current[0:3, 17:20] == 9).all()


def test_stitch_tiles_drops_cut_instances_and_duplicates():
    from ctc.segmentation.segment import stitch_tiles

    left = np.zeros((10, 12), np.uint16)
    left[2:5, 2:5] = 1        # whole inside the left tile
    left[6:9, 9:12] = 2       # cut by the inner border: dropped
    right = np.zeros((10, 12), np.uint16)
    right[6:9, 1:6] = 5       # the same cell, whole in the right tile
    right[2:5, 0:3] = 6       # touches the image edge? no: x0 > 0 -> inner border
    out = stitch_tiles([(0, 0, left), (0, 8, right)], (10, 20))
    assert len(np.unique(out)) == 3
    assert out[3, 3] != 0 and out[7, 12] != 0 and out[3, 8] == 0


def test_rshn_and_gruunet_train_and_run(tmp_path):
    import tifffile
    from scipy import ndimage as ndi

    from ctc.cli import main
    from ctc.segmentation.data import Augment
    from ctc.segmentation.model import ModelConfig
    from ctc.segmentation.train import TrainConfig, train
    from ctc.toy import moving_discs, write_gt
    from ctc.validation import validate_result

    root = tmp_path / "Toy"
    truth = moving_discs(n_frames=5, shape=(64, 64), n_objects=3, seed=2)
    write_gt(truth, root / "01_GT")
    (root / "01").mkdir()
    for t, mask in enumerate(truth.masks):
        raw = ndi.gaussian_filter((mask > 0).astype(np.float32) * 200 + 20, 1.0)
        tifffile.imwrite(root / "01" / f"t{t:03d}.tif", raw.astype(np.uint8))
    quiet = dict(progress=False, log=lambda *_: None)
    settings = TrainConfig(steps=4, batch=2, crop=32, val_every=2, val_frames=1, window=2,
                           device="cpu", augment=Augment(scale=None))
    rshn = ModelConfig(arch="rshn", net={"channels": 8, "levels": 2, "embedding": 4},
                       task="embedding")
    config = train(rshn, [(root, ["01"])], tmp_path / "rshn", settings, **quiet)
    # its mean-shift bandwidth is chosen on the held-out frame, as thresholds are for U-Nets
    from ctc.segmentation.calibrate import EMBEDDING_GRID

    tried = sorted(r["bandwidth"] for r in config.scores["calibration"])
    assert tried == sorted(g["bandwidth"] for g in EMBEDDING_GRID)
    assert config.postprocess["bandwidth"] == config.scores["calibration"][0]["bandwidth"]
    assert main(["run", str(root), "01", "--model", str(tmp_path / "rshn"), "--device", "cpu",
                 "--out", str(tmp_path / "rshn_RES")]) == 0
    assert validate_result(tmp_path / "rshn_RES").valid
    gruu = ModelConfig(arch="gruunet", net={"scales": 2, "features": 8, "hidden": 8},
                       loss={"name": "nfl"})
    train(gruu, [(root, ["01"])], tmp_path / "gruu", settings, **quiet)
    assert main(["run", str(root), "01", "--model", str(tmp_path / "gruu"), "--device", "cpu",
                 "--out", str(tmp_path / "gruu_RES")]) == 0


def test_windows_never_span_gaps_or_sequences():
    from ctc.errors import CTCInputError
    from ctc.segmentation.sequences import LabelledFrame, WindowSampler, window_starts

    def frame(t, seq):
        return LabelledFrame(np.full((8, 8), t, np.float32), np.zeros((8, 8), np.int64),
                             True, t, seq)

    # sequence A: frames 0-3 with 2 held out; sequence B: 0-2
    frames = [frame(t, "A") for t in (0, 1, 3)] + [frame(t, "B") for t in (0, 1, 2)]
    assert window_starts(frames, 2) == [0, 3, 4]
    assert window_starts(frames, 3) == [3]
    rng = np.random.default_rng(0)
    sampler = WindowSampler(frames, 3, 8, rng)
    for _ in range(10):
        images = sampler.window()[0]
        assert images[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0]  # B's frames 0, 1, 2
    with pytest.raises(CTCInputError, match="no run of 4 consecutive frames"):
        WindowSampler(frames, 4, 8, rng)
