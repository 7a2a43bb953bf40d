"""Atomic writing of a CTC result folder (``NN_RES``).

The folder is built under a temporary name beside the target and renamed into
place only when every frame and the track table are written, so an
interrupted run never leaves a half-written result behind; the work folder of
a run that was killed outright is removed by the next run for the same target
(:mod:`ctc.io.atomic`).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from types import TracebackType

import numpy as np

from ctc.errors import CTCFormatError, CTCInputError, CTCWarning
from ctc.io.atomic import remove_stale, replace_dir, work_dir
from ctc.io.naming import RES_PREFIX, RES_TRACK_FILE, frame_name
from ctc.io.tiff import as_label_image, write_mask
from ctc.lineage import Track, TrackTable, write_tracks


class ResultWriter:
    """Write ``maskTTT.tif`` files and ``res_track.txt`` into a folder atomically.

    Use as a context manager: the folder appears at `target` when the block
    ends without an exception; on an exception the partial work is deleted
    and any previous `target` is left untouched.

    Parameters
    ----------
    target : path
        The result folder to create, e.g. ``DATASET/01_RES``.
    digits : int
        Zero-padding width of the frame numbers (3 unless the sequence has
        1000 frames or more).
    n_frames : int, optional
        Expected number of frames; committing with another count fails.
    overwrite : bool
        Replace an existing `target` (only once the new result is complete).
    compression : str, optional
        TIFF compression of the masks (default none).
    require_tracks : bool
        Refuse to commit without ``res_track.txt`` (default). False writes a
        folder of instance masks only (segmentation output).

    Examples
    --------
    >>> with ResultWriter("out/01_RES", n_frames=2) as res:   # doctest: +SKIP
    ...     res.write_mask(0, mask0)
    ...     res.write_mask(1, mask1)
    ...     res.write_tracks(tracks)
    """

    def __init__(
        self,
        target: str | Path,
        *,
        digits: int = 3,
        n_frames: int | None = None,
        overwrite: bool = False,
        compression: str | None = None,
        require_tracks: bool = True,
    ):
        self.target = Path(target)
        self.digits = digits
        self.n_frames = n_frames
        self.overwrite = overwrite
        self.compression = compression
        self.require_tracks = require_tracks
        self.frames: list[int] = []
        self.empty_frames: list[int] = []
        self._tracks_written = False
        self._tmp: Path | None = None

    def __enter__(self) -> ResultWriter:
        if self.target.exists() and not self.overwrite:
            raise CTCInputError(
                "result folder already exists; remove it or allow overwriting "
                "(--overwrite)",
                self.target,
            )
        parent = self.target.parent
        if not parent.is_dir():
            raise CTCInputError("parent folder of the result does not exist", parent)
        if self.target.exists() and not self.target.is_dir():
            raise CTCInputError("exists and is not a folder; a result is a folder", self.target)
        remove_stale(self.target)
        try:
            self._tmp = work_dir(self.target)
        except OSError as exc:
            raise CTCInputError(f"cannot write here ({exc.strerror or exc})", parent) from None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self._tmp is not None and self._tmp.exists():
                shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @property
    def tmp_dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("ResultWriter must be used as a context manager")
        return self._tmp

    def write_mask(self, frame: int, mask: np.ndarray) -> None:
        """Write the label image of `frame` as ``maskTTT.tif`` (uint16)."""
        name = frame_name(RES_PREFIX, frame, self.digits)
        mask = as_label_image(np.asarray(mask), self.target / name)
        if not mask.any():
            self.empty_frames.append(frame)
            warnings.warn(
                f"{self.target / name}: frame {frame} has no objects; SEG accepts it "
                "but the official DET/TRA tools refuse empty frames",
                CTCWarning,
                stacklevel=2,
            )
        write_mask(self.tmp_dir / name, mask, compression=self.compression)
        self.frames.append(frame)

    def write_tracks(self, tracks: TrackTable | list[Track]) -> None:
        """Write ``res_track.txt``."""
        write_tracks(self.tmp_dir / RES_TRACK_FILE, tracks)
        self._tracks_written = True

    def _commit(self) -> None:
        frames = sorted(set(self.frames))
        n = self.n_frames if self.n_frames is not None else (frames[-1] + 1 if frames else 0)
        if not frames:
            raise CTCFormatError("no frame was written; nothing to commit", self.target)
        if frames != list(range(n)):
            missing = sorted(set(range(n)) - set(frames))
            extra = sorted(set(frames) - set(range(n)))
            raise CTCFormatError(
                f"incomplete result: frames missing {missing[:10]}, unexpected {extra[:10]} "
                f"(expected 0-{n - 1}); the result folder was not created",
                self.target,
            )
        if self.require_tracks and not self._tracks_written:
            raise CTCFormatError(
                "res_track.txt was not written; the result folder was not created", self.target
            )
        replace_dir(self.tmp_dir, self.target)
