"""Lazy access to the frames of one CTC folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ctc.errors import CTCFormatError
from ctc.io.naming import FrameFiles, find_frames
from ctc.io.tiff import FrameInfo, frame_info, read_frame, read_mask


class FrameSequence:
    """The numbered frames of a folder, read one at a time on demand.

    Parameters
    ----------
    files : FrameFiles
        The frame files, as returned by :func:`ctc.io.find_frames`.
    labels : bool
        Read frames as label images (refuse float and signed data).

    Examples
    --------
    >>> seq = FrameSequence.open("DIC-C2DH-HeLa/01", "t")   # doctest: +SKIP
    >>> for t, image in seq:                                 # doctest: +SKIP
    ...     ...
    """

    def __init__(self, files: FrameFiles, *, labels: bool = False):
        self.files = files
        self.labels = labels
        self._info: FrameInfo | None = None

    @classmethod
    def open(cls, folder: str | Path, prefix: str, *, labels: bool = False) -> FrameSequence:
        """Find the ``{prefix}NNN.tif`` frames of `folder`."""
        return cls(find_frames(folder, prefix), labels=labels)

    @property
    def frames(self) -> list[int]:
        """Frame numbers, ascending."""
        return self.files.frames

    @property
    def digits(self) -> int:
        return self.files.digits

    def __len__(self) -> int:
        return len(self.files)

    def path(self, frame: int) -> Path:
        try:
            return self.files.paths[frame]
        except KeyError:
            raise CTCFormatError(
                f"frame {frame} missing ({self.files.prefix}"
                f"{frame:0{self.digits}d}.tif not found)",
                self.files.folder,
            ) from None

    @property
    def info(self) -> FrameInfo:
        """Shape and dtype of the first frame (header only)."""
        if self._info is None:
            self._info = frame_info(self.path(self.frames[0]))
        return self._info

    def read(self, frame: int) -> np.ndarray:
        """Read one frame, checking it has the dimensionality of the first."""
        path = self.path(frame)
        image = read_mask(path) if self.labels else read_frame(path)
        if image.shape != self.info.shape:
            raise CTCFormatError(
                f"frame shape {image.shape} differs from the first frame's "
                f"{self.info.shape} ({_dims(image.shape)} vs {_dims(self.info.shape)}); "
                "all frames of a sequence must have one shape",
                path,
            )
        return image

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for frame in self.frames:
            yield frame, self.read(frame)

    def check_shapes(self) -> None:
        """Raise :class:`CTCFormatError` at the first frame whose shape differs (headers only)."""
        for frame in self.frames:
            shape = frame_info(self.path(frame)).shape
            if shape != self.info.shape:
                raise CTCFormatError(
                    f"frame shape {shape} differs from the first frame's {self.info.shape} "
                    f"({_dims(shape)} vs {_dims(self.info.shape)})",
                    self.path(frame),
                )


def _dims(shape: tuple[int, ...]) -> str:
    return f"{len(shape)}D"
