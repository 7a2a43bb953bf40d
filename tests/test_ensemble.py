"""Snapshot ensembles: the mean of the members' probabilities, stored as one model folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ctc.segmentation.averaging import snapshot_ensemble
from ctc.segmentation.ensemble import Ensemble
from ctc.segmentation.infer import activate, predict_image, scores_of
from ctc.segmentation.model import ModelConfig, build_net, load_model, save_model
from ctc.segmentation.nets import NetConfig
from ctc.segmentation.train import TrainConfig, train


def small_config(**kwargs) -> ModelConfig:
    return ModelConfig(net=NetConfig(base=4, depth=2), **kwargs)


@pytest.mark.parametrize("markers", [False, True])
def test_ensemble_outputs_the_mean_of_its_members_probabilities(markers):
    torch.manual_seed(0)
    members = [build_net(small_config(markers=markers)).eval() for _ in range(3)]
    x = torch.randn(2, 1, 24, 24)
    with torch.no_grad():
        expected = sum(activate(m(x)) for m in members) / 3
        got = activate(Ensemble(members).eval()(x))
    assert got.shape == expected.shape == (2, 4 if markers else 3, 24, 24)
    assert torch.allclose(got, expected, atol=1e-5)
    # scores_of inverts activate where probabilities are not at the clamp
    assert torch.allclose(activate(scores_of(expected)), expected, atol=1e-5)
    with pytest.raises(ValueError, match="at least one"):
        Ensemble([])


def test_ensemble_model_folder_round_trip_and_snapshots(tmp_path):
    torch.manual_seed(1)
    config = small_config()
    files = []
    for i in range(2):
        path = tmp_path / f"step-{i}.pt"
        torch.save(build_net(config).state_dict(), path)
        files.append(path)
    ensemble_config, net = snapshot_ensemble(config, files)
    assert ensemble_config.ensemble == 2 and config.ensemble == 0
    image = np.random.default_rng(0).random((40, 40)).astype(np.float32)
    single = []
    for path in files:
        member = build_net(config)
        member.load_state_dict(torch.load(path, weights_only=True))
        single.append(predict_image(member.eval(), image, tta="flips"))
    prob = predict_image(net, image, tta="flips")
    assert np.allclose(prob, (single[0] + single[1]) / 2, atol=1e-5)
    save_model(tmp_path / "ens", ensemble_config, net, half=True)
    loaded_config, loaded = load_model(tmp_path / "ens")
    assert loaded_config.ensemble == 2 and isinstance(loaded, Ensemble)
    assert np.allclose(predict_image(loaded, image, tta="flips"), prob, atol=2e-3)
    # a single network's configuration file does not mention ensembles
    assert "ensemble" not in config.to_dict() and ensemble_config.to_dict()["ensemble"] == 2


def test_ensembles_are_assembled_not_trained(tmp_path):
    with pytest.raises(ValueError, match="ensembles go with the unet"):
        ModelConfig(arch="rshn", task="embedding", net={"embedding": 8}, ensemble=2)
    for bad in (-1, True, 2.0):
        with pytest.raises(ValueError, match="number of networks"):
            small_config(ensemble=bad)
    with pytest.raises(ValueError, match="assembled from the snapshots"):
        train(small_config(ensemble=2), [], tmp_path / "m", TrainConfig(steps=1))
    assert not (tmp_path / "m").exists()
