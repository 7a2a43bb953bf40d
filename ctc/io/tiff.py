"""Reading and writing single CTC frames (2D pages or 3D multi-page TIFF)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ctc.errors import CTCFormatError
from ctc.limits import MAX_LABEL


@dataclass(frozen=True)
class FrameInfo:
    """Shape and dtype of a TIFF frame, read from its header only."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


def frame_info(path: str | Path) -> FrameInfo:
    """Return the shape and dtype of a TIFF frame without reading its pixels."""
    _check_tiff_header(path)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            return FrameInfo(tuple(series.shape), np.dtype(series.dtype))
    except FileNotFoundError:
        raise CTCFormatError("file not found", path) from None
    except Exception as exc:  # tifffile raises many types on corrupt files
        raise CTCFormatError(
            f"unreadable TIFF ({type(exc).__name__}: {exc}); re-export the file", path
        ) from None


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_OTHER_FORMATS = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"\x93NUMPY": "a NumPy array (.npy)", b"PK\x03\x04": "a ZIP archive",
                  b"GIF8": "a GIF image", b"BM": "a BMP image"}


def _check_tiff_header(path: str | Path) -> None:
    """Refuse a file that is not a TIFF, saying what it looks like instead."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise CTCFormatError("file not found", path) from None
    except IsADirectoryError:
        raise CTCFormatError("is a folder, not a TIFF file", path) from None
    except OSError as exc:
        raise CTCFormatError(f"cannot read the file ({exc.strerror or exc})", path) from None
    if head[:4] in _TIFF_MAGIC:
        return
    what = next((name for magic, name in _OTHER_FORMATS.items() if head.startswith(magic)),
                "empty" if not head else "not an image TIFF tools can read")
    raise CTCFormatError(f"not a TIFF file ({what}; it starts with {head[:4]!r}); save the "
                         "frame as a TIFF", path)


def read_frame(path: str | Path) -> np.ndarray:
    """Read a 2D frame or a 3D multi-page frame (Z, Y, X), any dtype, compressed or not.

    Raises
    ------
    CTCFormatError
        When the file is missing, truncated or not a TIFF.
    """
    _check_tiff_header(path)
    try:
        return tifffile.imread(path)
    except FileNotFoundError:
        raise CTCFormatError("file not found", path) from None
    except Exception as exc:
        raise CTCFormatError(
            f"unreadable or truncated TIFF ({type(exc).__name__}: {exc}); re-export the file",
            path,
        ) from None


def label_dtype_problem(dtype: np.dtype) -> str | None:
    """Explain why `dtype` cannot hold CTC labels, or return None when it can."""
    if dtype.kind == "f":
        return f"float mask ({dtype}): labels must be integers; save the mask as uint16"
    if dtype.kind == "i":
        return f"signed mask ({dtype}): labels must be unsigned; save the mask as uint16"
    if dtype.kind == "b":
        return "boolean mask: one label per object is required; save a uint16 label image"
    if dtype.kind != "u":
        return f"mask of dtype {dtype} is not a label image; save the mask as uint16"
    return None


def read_mask(path: str | Path) -> np.ndarray:
    """Read a label image (RES mask or GT/ST annotation) as unsigned integers.

    Raises
    ------
    CTCFormatError
        For unreadable files and float, signed or boolean masks.
    """
    mask = read_frame(path)
    problem = label_dtype_problem(mask.dtype)
    if problem:
        raise CTCFormatError(problem, path)
    return mask


def as_label_image(mask: np.ndarray, where: str | Path = "mask") -> np.ndarray:
    """Convert an integer label image to uint16, refusing values CTC cannot store.

    Signed and 64-bit inputs are accepted when their values lie in 0..65535,
    which lets in-memory label images from any library be written.
    """
    if mask.dtype == np.uint16:
        return mask
    if mask.dtype.kind not in "ui":
        raise CTCFormatError(
            f"cannot write a {mask.dtype} array as a CTC mask: labels must be integers", where
        )
    if mask.size:
        lo, hi = int(mask.min()), int(mask.max())
        if lo < 0:
            raise CTCFormatError(
                f"negative label {lo}: labels are 0 (background) or positive", where
            )
        if hi > MAX_LABEL:
            raise CTCFormatError(
                f"label {hi} exceeds 65535, the largest uint16 label; relabel objects "
                "(`ctc repair` does it)",
                where,
            )
    return mask.astype(np.uint16)


def write_mask(path: str | Path, mask: np.ndarray, *, compression: str | None = None) -> None:
    """Write a label image as a uint16 TIFF (multi-page when 3D).

    Parameters
    ----------
    path : path
        Target file.
    mask : ndarray
        Integer labels in 0..65535.
    compression : str, optional
        TIFF compression such as ``"zlib"``; default none, which every CTC
        tool reads.
    """
    # minisblack: a volume of 3 or 4 slices must not be stored as an RGB(A) image.
    tifffile.imwrite(path, as_label_image(mask, path), photometric="minisblack",
                     compression=compression)
