"""A trained model is a folder: ``config.json`` (everything needed to reuse it) + ``weights.pt``."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from ctc.configs import from_dict
from ctc.errors import CTCInputError
from ctc.segmentation.data import MARKER_SOURCES, NORMALIZATIONS
from ctc.segmentation.ensemble import Ensemble
from ctc.segmentation.gruunet import GRUUConfig, GRUUNet
from ctc.segmentation.nets import NetConfig, UNet
from ctc.segmentation.postprocess import THRESHOLD_KEYS
from ctc.segmentation.rshn import RSHN, RSHNConfig

#: arch name -> (configuration class, network class)
ARCHS = {"unet": (NetConfig, UNet), "gruunet": (GRUUConfig, GRUUNet), "rshn": (RSHNConfig, RSHN)}

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"

#: Post-processing settings calibrated per dataset (``ModelConfig.dataset_postprocess``):
#: the thresholds and the smallest object kept.
DATASET_KEYS = (*THRESHOLD_KEYS, "min_size")


@dataclass
class ModelConfig:
    """What a model is and how it was made.

    Attributes
    ----------
    arch : {"unet", "gruunet", "rshn"}
        Network family: the configurable U-Net, the GRU-U-Net, or the
        recurrent stacked hourglass with cosine embeddings.
    net : NetConfig, GRUUConfig or RSHNConfig
        Architecture parameters of `arch`.
    task : {"three_class", "border", "embedding"}
        Targets: background/cell/boundary classes, eroded cells + borders with
        a foreground channel (seeded watershed), or per-pixel embeddings
        clustered into instances (RSHN).
    markers : bool
        A fourth output channel learns the tracking markers (GT TRA) of every
        frame, segmented or not; the ``markers`` post-processing seeds one
        watershed basin per predicted marker (three_class only).
    markers_from : {"tra", "segmentation"}
        Target of the marker channel: the tracking markers (GT TRA), or each
        annotated cell's distance to its edge, normalised per cell, computed
        from the segmentation annotation (gold or silver): the *cell distance*
        of the distance-map method of Scherr et al. (KIT), whose other map,
        the neighbour distance, is left to the boundary class here. Where TRA
        markers are small dots (DIC-C2DH-HeLa), the cell distance describes the
        whole cell on every segmented frame.
    iterations : int
        Boundary width (three_class) or erosion/border width (border).
    context : int
        U-Net only: neighbouring z-slices on each side given to the network as
        extra input channels (2.5D: a 3D volume's slice is seen with the slices
        above and below it, so the network can tell a nucleus from the blurred
        light of one beside it in z); a 2D image stands for its own
        neighbours. The network then has 2 context + 1 input channels.
    loss : dict
        ``{"name": ..., **parameters}``, see :data:`ctc.segmentation.losses.LOSSES`.
    normalization : str
        "percentile", "minmax" or "log", per sequence
        (:func:`ctc.segmentation.data.sequence_normalization`).
    postprocess : dict
        ``min_size`` (pixels), ``fill_holes``, ``tile``, ``overlap``, ``tta``, and
        the settings calibration chooses (:data:`ctc.segmentation.postprocess.THRESHOLD_KEYS`):
        ``method``, ``seed_threshold``, ``foreground_threshold``, ``h``, ``split``
        (clump-split solidity) and ``refine`` (outline fraction,
        :func:`ctc.segmentation.refine.refine_outlines`).
    dataset_postprocess : dict
        Models trained on several datasets: per dataset name, the calibrated
        settings (``method`` ... ``refine``) that replace those of `postprocess`
        when a sequence of that dataset is segmented (:meth:`for_dataset`); one
        setting for all merges dense cells of one dataset or splits the cells
        of another. Datasets not listed use `postprocess`.
    tracking : dict
        Tracking parameters for ``ctc run`` (see :class:`ctc.tracking.TrackingConfig`).
    training : dict
        How it was trained (data, truth, steps, seed, ...), filled by training.
    scores : dict
        What it reached, filled by training and evaluation.
    ensemble : int
        0: one network. M > 0: a snapshot ensemble of M networks of this
        architecture whose probabilities are averaged
        (:class:`ctc.segmentation.ensemble.Ensemble`; U-Nets only; not trained
        as such, assembled from a run's snapshots).
    """

    net: NetConfig | GRUUConfig | RSHNConfig = field(
        default_factory=lambda: NetConfig(base=16))
    task: str = "three_class"
    arch: str = "unet"
    markers: bool = False
    markers_from: str = "tra"
    iterations: int = 2
    context: int = 0
    loss: dict = field(default_factory=lambda: {"name": "wce"})
    normalization: str = "percentile"
    postprocess: dict = field(default_factory=lambda: {
        "min_size": 20, "fill_holes": True, "tile": 512, "overlap": 64, "tta": "flips"})
    dataset_postprocess: dict = field(default_factory=dict)
    tracking: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    ensemble: int = 0

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {sorted(ARCHS)}, got {self.arch!r}")
        config_class = ARCHS[self.arch][0]
        if isinstance(self.net, dict) and self.arch == "rshn" and "norm" not in self.net:
            # written before the hourglass had group normalisation: the network as published
            self.net = {**self.net, "norm": "none"}
        if isinstance(self.net, dict):
            self.net = from_dict(config_class, self.net, self.arch)
        if not isinstance(self.net, config_class):
            raise ValueError(f"arch {self.arch!r} needs a {config_class.__name__}")
        tasks = ("embedding",) if self.arch == "rshn" else ("three_class", "border")
        if self.task not in tasks:
            raise ValueError(f"task of a {self.arch} model must be one of {tasks}, "
                             f"got {self.task!r}")
        if self.markers and self.task != "three_class":
            raise ValueError(f"markers go with the three_class task, not {self.task!r}")
        if self.markers_from not in MARKER_SOURCES:
            raise ValueError(f"markers_from must be one of {MARKER_SOURCES}, "
                             f"got {self.markers_from!r}")
        if self.markers_from != "tra" and not self.markers:
            raise ValueError("markers_from goes with markers=True")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, "
                             f"got {self.normalization!r}")
        if not isinstance(self.context, int) or self.context < 0:
            raise ValueError(f"context must be a whole number of slices >= 0, "
                             f"got {self.context!r}")
        if isinstance(self.ensemble, bool) or not isinstance(self.ensemble, int) or (
                self.ensemble < 0):
            raise ValueError(f"ensemble must be a number of networks >= 0, got {self.ensemble!r}")
        if self.ensemble and self.arch != "unet":
            raise ValueError(f"ensembles go with the unet arch, not {self.arch!r}")
        if self.context and self.arch != "unet":
            raise ValueError(f"slice context goes with the unet arch, not {self.arch!r}")
        if self.arch == "unet" and self.net.in_channels != 2 * self.context + 1:
            self.net = NetConfig(**{**self.net.to_dict(),
                                    "in_channels": 2 * self.context + 1})
        if self.arch != "rshn":
            expected = 4 if self.task == "border" or self.markers else 3
            if self.net.out_channels != expected:
                self.net = config_class(**{**self.net.to_dict(), "out_channels": expected})

    def for_dataset(self, name: str | None) -> ModelConfig:
        """This configuration with the post-processing calibrated for dataset `name`
        (:attr:`dataset_postprocess`), or itself where there is none."""
        settings = self.dataset_postprocess.get(name or "")
        if not settings:
            return self
        base = {k: v for k, v in self.postprocess.items() if k not in THRESHOLD_KEYS}
        return replace(self, postprocess={**base, **{k: v for k, v in settings.items()
                                                     if k in DATASET_KEYS}})

    def to_dict(self) -> dict:
        out = asdict(self)
        out["net"] = self.net.to_dict()
        if not out["ensemble"]:  # single networks keep the configuration files they had
            del out["ensemble"]
        return out

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        return cls(**values)


def build_net(config: ModelConfig) -> torch.nn.Module:
    """The network of a model configuration (untrained): one, or an :class:`Ensemble`."""
    if config.ensemble:
        return Ensemble([ARCHS[config.arch][1](config.net) for _ in range(config.ensemble)])
    return ARCHS[config.arch][1](config.net)


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def half_precision(state: dict) -> dict:
    """A state dict with its floating-point tensors in float16 (the others as they are)."""
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def full_precision(state: dict) -> dict:
    """A state dict with its floating-point tensors in float32 (the others as they are)."""
    return {k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
            for k, v in state.items()}


def save_model(folder: str | Path, config: ModelConfig, net: torch.nn.Module,
               half: bool = False) -> None:
    """Write config.json and weights.pt atomically into `folder` (created if needed).

    Parameters
    ----------
    half : bool
        Store the floating-point tensors in float16 (half the bytes; for shipped
        models, whose size counts against what a device run carries).
        :func:`load_model` restores float32, so a half model runs in float32
        arithmetic from float16-rounded weights: score it as stored.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    if half:
        state = half_precision(state)
    _atomic_write(folder / WEIGHTS_FILE, lambda p: torch.save(state, p))
    write_config(folder, config)


def is_half(folder: str | Path) -> bool:
    """Whether the model folder's weights are stored in half precision."""
    weights = Path(folder) / WEIGHTS_FILE
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # empty, truncated or foreign files raise many types
        raise CTCInputError(f"unreadable weights file ({type(exc).__name__}: {exc})",
                            weights) from None
    return any(torch.is_tensor(v) and v.dtype == torch.float16 for v in state.values())


def store_half(folder: str | Path) -> bool:
    """Store a model folder's weights in half precision, in place (atomically).

    Returns False, changing nothing, where they already are. The scores in its
    config.json were measured on the weights before: score the model again.
    """
    if is_half(folder):
        return False
    config, net = load_model(folder)
    save_model(folder, config, net, half=True)
    return True


def write_config(folder: str | Path, config: ModelConfig) -> None:
    """Write config.json atomically (the weights are left as they are)."""
    text = json.dumps(config.to_dict(), indent=2) + "\n"
    _atomic_write(Path(folder) / CONFIG_FILE, lambda p: Path(p).write_text(text))


def load_config(folder: str | Path) -> ModelConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise CTCInputError(f"not a model folder: {CONFIG_FILE} not found", folder)
    try:
        return ModelConfig.from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise CTCInputError(f"invalid model configuration ({exc})", path) from None


def load_model(folder: str | Path, device: str | torch.device = "cpu"
               ) -> tuple[ModelConfig, torch.nn.Module]:
    """Read a model folder; the network is returned in eval mode on `device`."""
    config = load_config(folder)
    weights = Path(folder) / WEIGHTS_FILE
    if not weights.is_file():
        raise CTCInputError(f"{WEIGHTS_FILE} not found: the model is untrained", folder)
    net = build_net(config)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # empty, truncated or foreign files raise many types
        raise CTCInputError(f"unreadable weights file ({type(exc).__name__}: {exc}); copy the "
                            "model folder again or retrain it", weights) from None
    if isinstance(state, dict):  # weights stored in half precision compute in float32
        state = full_precision(state)
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise CTCInputError(f"weights do not fit the configuration ({exc})", weights) from None
    return config, net.to(resolve_device(device)).eval()


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The torch device for `name`: "auto" (CUDA when present, else CPU), "cpu", "cuda[:N]".

    Raises
    ------
    CTCInputError
        For an unknown device name, or CUDA asked for where it is not available.
    """
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise CTCInputError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise CTCInputError(f"device {name!r} is not supported; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this PyTorch build has no CUDA support" if torch.version.cuda is None
                   else "no CUDA GPU is visible")
            raise CTCInputError(f"device {name!r} asked for, but {why}; use --device cpu "
                                "(or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise CTCInputError(f"device {name!r} asked for, but only "
                                f"{torch.cuda.device_count()} CUDA device(s) are visible")
    return device
