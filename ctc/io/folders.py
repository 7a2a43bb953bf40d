"""Discovery of the CTC folder layout of a dataset and its sequences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ctc.errors import CTCInputError

_SEQ_RE = re.compile(r"^([0-9]{2,})$")


@dataclass(frozen=True)
class SequenceFolders:
    """The folders of one sequence ``NN`` inside a dataset folder.

    Each attribute is the path when the folder exists, else None.
    """

    dataset: Path
    name: str
    raw: Path | None
    gt_seg: Path | None
    gt_tra: Path | None
    st_seg: Path | None
    res: Path | None

    @property
    def res_target(self) -> Path:
        """Where the result of this sequence belongs: ``DATASET/NN_RES``."""
        return self.dataset / f"{self.name}_RES"


def _existing(path: Path) -> Path | None:
    return path if path.is_dir() else None


def sequence_folders(dataset_dir: str | Path, sequence: str) -> SequenceFolders:
    """Describe the folders of `sequence` (e.g. ``"01"``) under `dataset_dir`.

    Raises
    ------
    CTCInputError
        When the dataset folder does not exist or holds no folder of the sequence.
    """
    dataset = Path(dataset_dir)
    if not dataset.is_dir():
        raise CTCInputError("dataset folder not found", dataset)
    folders = SequenceFolders(
        dataset=dataset,
        name=sequence,
        raw=_existing(dataset / sequence),
        gt_seg=_existing(dataset / f"{sequence}_GT" / "SEG"),
        gt_tra=_existing(dataset / f"{sequence}_GT" / "TRA"),
        st_seg=_existing(dataset / f"{sequence}_ST" / "SEG"),
        res=_existing(dataset / f"{sequence}_RES"),
    )
    if not any((folders.raw, folders.gt_seg, folders.gt_tra, folders.st_seg, folders.res)):
        raise CTCInputError(
            f"no folder of sequence {sequence} ({sequence}, {sequence}_GT, {sequence}_ST, "
            f"{sequence}_RES)",
            dataset,
        )
    return folders


def list_sequences(dataset_dir: str | Path) -> list[str]:
    """Names of the sequences (``01``, ``02``, ...) that have any folder in a dataset folder."""
    dataset = Path(dataset_dir)
    if not dataset.is_dir():
        raise CTCInputError("dataset folder not found", dataset)
    names = set()
    for child in dataset.iterdir():
        if child.is_dir():
            base = child.name.split("_", 1)[0]
            if _SEQ_RE.match(base):
                names.add(base)
    return sorted(names)
