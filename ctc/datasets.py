"""The registry of CTC datasets (``datasets.txt`` at the top of the repository).

One row per dataset, whitespace-separated columns; ``-`` marks a value not
recorded yet. Dimensionality, modality, object type, resolution and whether
the data is simulated are encoded in the name and checked against it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ctc.errors import CTCFormatError, CTCInputError

COLUMNS = ("name", "dims", "modality", "objects", "resolution", "pixel_size_um",
           "time_step_min", "frames_01", "frames_02", "digits", "object_diameter_px",
           "silver_truth", "model", "min_size_px", "det_fp_penalty", "model_saw")
#: Columns a registry may leave out at the end of every row, and the value they take.
OPTIONAL = {"det_fp_penalty": "yes", "model_saw": "-"}

_NAME_RE = re.compile(r"^(BF|DIC|PhC|Fluo)-(C|N)(2|3)D(H|L)-(.+)$")
DEFAULT_REGISTRY = Path(__file__).resolve().parents[1] / "datasets.txt"


@dataclass(frozen=True)
class DatasetInfo:
    """One registry row (None where the registry says ``-``)."""

    name: str
    dims: int
    modality: str
    objects: str
    resolution: str
    pixel_size_um: tuple[tuple[float, ...], tuple[float, ...]] | None
    time_step_min: tuple[float, float] | None
    frames: tuple[int | None, int | None]
    digits: int
    object_diameter_px: int | None
    silver_truth: bool | None
    model: str | None
    min_size_px: int | None
    #: Whether the challenge's DET counts false positives on this dataset (it does not on
    #: the embryo datasets whose GT annotates only some nuclei).
    det_fp_penalty: bool = True
    #: Whether the default model was trained on this dataset (None: not recorded).
    model_saw: bool | None = None

    @property
    def simulated(self) -> bool:
        return "SIM" in self.name

    @property
    def trained(self) -> bool:
        return self.model is not None

    def voxel_size(self, sequence: str = "01") -> tuple[float, ...] | None:
        """Pixel (x, y) or voxel (x, y, z) size in µm of training sequence 01 or 02."""
        return None if self.pixel_size_um is None else self.pixel_size_um[_seq_index(sequence)]

    def time_step(self, sequence: str = "01") -> float | None:
        """Minutes between frames of training sequence 01 or 02."""
        return None if self.time_step_min is None else self.time_step_min[_seq_index(sequence)]


def _seq_index(sequence: str) -> int:
    if sequence not in ("01", "02"):
        raise ValueError(f"the registry records training sequences 01 and 02, not {sequence!r}")
    return int(sequence) - 1


def _per_sequence(value: str, parse) -> tuple:
    """``"a"`` (both sequences) or ``"a/b"`` (01, 02), each parsed."""
    parts = value.split("/")
    if len(parts) > 2:
        raise ValueError(f"{value!r}: give one value, or two as 01/02")
    return tuple(parse(parts[i if len(parts) == 2 else 0]) for i in (0, 1))


def _size(dims: int):
    def parse(text: str) -> tuple[float, ...]:
        values = tuple(float(v) for v in text.split("x"))
        if len(values) != dims or min(values) <= 0:
            axes = "xyz"[:dims]
            raise ValueError(f"pixel size {text!r}: {dims} positive sizes expected, "
                             f"{'x'.join(axes)}")
        return values
    return parse


def _opt(value: str, cast):
    return None if value == "-" else cast(value)


def _parse_row(fields: list[str], where: str) -> DatasetInfo:
    missing = len(COLUMNS) - len(fields)
    if 0 < missing <= len(OPTIONAL):  # registries written before the optional columns
        fields = [*fields, *list(OPTIONAL.values())[-missing:]]
    if len(fields) != len(COLUMNS):
        optional = ", ".join(f"{k} ({v})" for k, v in OPTIONAL.items())
        raise CTCFormatError(f"{where}: {len(fields)} columns, expected {len(COLUMNS)} "
                             f"({' '.join(COLUMNS)}; the last may be left out, taking "
                             f"these values: {optional})")
    row = dict(zip(COLUMNS, fields, strict=True))
    match = _NAME_RE.match(row["name"])
    if not match:
        raise CTCFormatError(f"{where}: {row['name']!r} is not a CTC dataset name")
    modality, objects, dims, resolution, _ = match.groups()
    expected = {"dims": f"{dims}D", "modality": modality, "objects": objects,
                "resolution": resolution}
    for key, value in expected.items():
        if row[key] != value:
            raise CTCFormatError(f"{where}: {key} {row[key]!r} contradicts the name "
                                 f"{row['name']} ({value!r})")
    if row["silver_truth"] not in ("yes", "no", "-"):
        raise CTCFormatError(f"{where}: silver_truth must be yes, no or -")
    if row["det_fp_penalty"] not in ("yes", "no"):
        raise CTCFormatError(f"{where}: det_fp_penalty must be yes or no")
    if row["model_saw"] not in ("yes", "no", "-"):
        raise CTCFormatError(f"{where}: model_saw must be yes, no or -")
    try:
        return DatasetInfo(
            name=row["name"], dims=int(dims), modality=modality, objects=objects,
            resolution=resolution,
            pixel_size_um=_opt(row["pixel_size_um"],
                               lambda v: _per_sequence(v, _size(int(dims)))),
            time_step_min=_opt(row["time_step_min"], lambda v: _per_sequence(v, float)),
            frames=(_opt(row["frames_01"], int), _opt(row["frames_02"], int)),
            digits=int(row["digits"]),
            object_diameter_px=_opt(row["object_diameter_px"], int),
            silver_truth=_opt(row["silver_truth"], lambda v: v == "yes"),
            model=None if row["model"] == "untrained" else row["model"],
            min_size_px=_opt(row["min_size_px"], int),
            det_fp_penalty=row["det_fp_penalty"] == "yes",
            model_saw=_opt(row["model_saw"], lambda v: v == "yes"))
    except ValueError as exc:
        raise CTCFormatError(f"{where}: {exc}") from None


def _simulated_spacing(path: Path) -> tuple[float, ...] | None:
    """The voxel geometry a ``ctc synth`` dataset records (3D: ``depth``, ``z_step``)."""
    try:
        settings = json.loads(path.read_text())
        return (float(settings["z_step"]), 1.0, 1.0) if settings.get("depth") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def relative_spacing(raw_dir: str | Path, registry: dict[str, DatasetInfo] | None = None
                     ) -> tuple[float, ...] | None:
    """The voxel size (z, y, x) relative to x of the 3D sequence ``DATASET/NN``, or None.

    Read from the registry row of the folder's dataset name (sequence 01's
    size for sequences other than 01 and 02), or for a dataset the registry
    does not know from the ``synth.json`` a simulated one records; None for 2D
    datasets and for sizes not known (then distances are isotropic).
    """
    raw = Path(raw_dir).resolve()
    if registry is None:
        try:
            registry = read_registry()
        except (CTCInputError, CTCFormatError):  # e.g. a submission's SW without datasets.txt
            registry = {}
    info = registry.get(raw.parent.name)
    if info is None:
        return _simulated_spacing(raw.parent / "synth.json")
    if info.dims != 3 or info.pixel_size_um is None:
        return None
    x, y, z = info.voxel_size(raw.name if raw.name in ("01", "02") else "01")
    return (z / x, y / x, 1.0)


def read_registry(path: str | Path | None = None) -> dict[str, DatasetInfo]:
    """Read the dataset registry (default: the repository's ``datasets.txt``)."""
    path = Path(path) if path is not None else DEFAULT_REGISTRY
    if not path.is_file():
        raise CTCInputError("dataset registry not found", path)
    registry: dict[str, DatasetInfo] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        info = _parse_row(line.split(), f"{path.name} line {number}")
        if info.name in registry:
            raise CTCFormatError(f"{path.name} line {number}: {info.name} listed twice")
        registry[info.name] = info
    return registry
