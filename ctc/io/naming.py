"""CTC file names: patterns, frame numbers and digit-count detection.

The challenge zero-pads frame numbers to a per-sequence digit count (3 for
most sequences, 4 for sequences of 1000 frames or more). The count is read
from the names on disk rather than assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ctc.errors import CTCInputError
from ctc.limits import MAX_FRAMES

#: File-name prefixes of the frame files in each kind of CTC folder.
RAW_PREFIX = "t"
RES_PREFIX = "mask"
SEG_PREFIX = "man_seg"
TRA_PREFIX = "man_track"

RES_TRACK_FILE = "res_track.txt"
GT_TRACK_FILE = "man_track.txt"

_SLICE_RE = re.compile(r"^man_seg_([0-9]+)_([0-9]{3})\.tif$")


def frame_name(prefix: str, frame: int, digits: int) -> str:
    """Return the file name of `frame`, e.g. ``frame_name("mask", 7, 3) == "mask007.tif"``."""
    return f"{prefix}{frame:0{digits}d}.tif"


def slice_name(frame: int, z: int, digits: int) -> str:
    """Return the name of a single-slice 3D annotation, ``man_seg_TTT_ZZZ.tif``."""
    return f"{SEG_PREFIX}_{frame:0{digits}d}_{z:03d}.tif"


@dataclass(frozen=True)
class FrameFiles:
    """The numbered frame files of one kind found in a folder.

    Attributes
    ----------
    folder : Path
        The folder searched.
    prefix : str
        File-name prefix (``"t"``, ``"mask"``, ``"man_seg"``, ``"man_track"``).
    paths : dict[int, Path]
        Frame number -> file, sorted by frame number.
    digits : int
        Zero-padding width of the frame numbers.
    """

    folder: Path
    prefix: str
    paths: dict[int, Path]
    digits: int

    @property
    def frames(self) -> list[int]:
        """Frame numbers present, ascending."""
        return list(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def missing_frames(self, n_frames: int | None = None) -> list[int]:
        """Frame numbers absent from ``0 .. n_frames-1`` (default: up to the last frame)."""
        n = (max(self.paths) + 1 if self.paths else 0) if n_frames is None else n_frames
        return [t for t in range(n) if t not in self.paths]


def _digit_count(numbers: list[str], folder: Path, prefix: str) -> int:
    """Common zero-padding width of frame-number strings, or raise if mixed.

    A name longer than the padding width is legal only when the number itself
    needs the extra digits (``t1000.tif`` in a 3-digit sequence), i.e. when it
    has no leading zero.
    """
    width = min(len(s) for s in numbers)
    odd = [s for s in numbers if len(s) > width and s.startswith("0")]
    if odd:
        examples = ", ".join(
            f"{prefix}{s}.tif" for s in sorted({min(numbers, key=len), odd[0]})
        )
        raise CTCInputError(
            f"mixed frame-number digit counts in '{prefix}*.tif' names ({examples}); "
            "rename all frames to one zero-padding width",
            folder,
        )
    return width


def find_frames(folder: str | Path, prefix: str, *, required: bool = True) -> FrameFiles:
    """Find the numbered ``{prefix}NNN.tif`` frame files of a folder.

    Parameters
    ----------
    folder : path
        Folder to search.
    prefix : str
        File-name prefix, e.g. :data:`RES_PREFIX`.
    required : bool
        Raise :class:`CTCInputError` when no frame is found (default).

    Returns
    -------
    FrameFiles
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CTCInputError(
            "folder not found" if not folder.exists() else "not a folder", folder
        )
    pattern = re.compile(rf"^{re.escape(prefix)}([0-9]+)\.tif$")
    found: dict[int, Path] = {}
    numbers: list[str] = []
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match:
            numbers.append(match.group(1))
            found[int(match.group(1))] = path
    if not found:
        if required:
            hint = ""
            if any(folder.glob(f"{prefix}*.tiff")):
                hint = " (found '.tiff' files: the CTC extension is '.tif')"
            raise CTCInputError(f"no '{prefix}NNN.tif' frames found{hint}", folder)
        return FrameFiles(folder, prefix, {}, 3)
    too_large = sorted(t for t in found if t >= MAX_FRAMES)
    if too_large:
        raise CTCInputError(
            f"frame number {too_large[0]} in '{found[too_large[0]].name}' is beyond the "
            f"largest supported, {MAX_FRAMES - 1}; frames are numbered from 0", folder)
    digits = _digit_count(numbers, folder, prefix)
    if len(numbers) != len(found):
        raise CTCInputError(
            f"the same frame number is written with different paddings in '{prefix}*.tif'",
            folder,
        )
    return FrameFiles(folder, prefix, dict(sorted(found.items())), digits)


def find_slice_annotations(folder: str | Path) -> dict[tuple[int, int], Path]:
    """Find the single-slice 3D annotations ``man_seg_TTT_ZZZ.tif`` of a SEG folder.

    Returns
    -------
    dict[(int, int), Path]
        ``(frame, z) -> file``, sorted.
    """
    folder = Path(folder)
    found = {}
    for path in folder.iterdir():
        match = _SLICE_RE.match(path.name)
        if match:
            if int(match.group(1)) >= MAX_FRAMES:
                raise CTCInputError(f"frame number in '{path.name}' is beyond the largest "
                                    f"supported, {MAX_FRAMES - 1}", folder)
            found[(int(match.group(1)), int(match.group(2)))] = path
    return dict(sorted(found.items()))


_NUMBERED_RE = re.compile(r"^(.*?)([0-9]+)\.tif$")


def find_numbered_frames(folder: str | Path, prefix: str | None = None) -> FrameFiles:
    """Find numbered ``PREFIXNNN.tif`` frames whatever the prefix.

    Parameters
    ----------
    folder : path
        Folder to search.
    prefix : str, optional
        The prefix to use when the folder holds several numbered series.

    Raises
    ------
    CTCInputError
        When the folder is missing, holds no numbered TIFF, or holds several
        series and `prefix` is not given.
    """
    folder = Path(folder)
    if prefix is not None:
        return find_frames(folder, prefix)
    if not folder.is_dir():
        raise CTCInputError(
            "folder not found" if not folder.exists() else "not a folder", folder)
    prefixes = sorted({m.group(1) for p in folder.iterdir()
                       if (m := _NUMBERED_RE.match(p.name))})
    if not prefixes:
        raise CTCInputError("no numbered '.tif' frames found (e.g. mask000.tif)", folder)
    if len(prefixes) > 1:
        raise CTCInputError(
            f"several numbered series ({', '.join(repr(p) for p in prefixes)}); "
            "choose one with --prefix", folder)
    return find_frames(folder, prefixes[0])
