"""A run of frames of a sequence as a sequence of its own (frames renumbered from 0).

Used for protocols that train on one part of a sequence and score on another
(PhC-C2DH-U373 has one annotated sequence here): the frames are linked, not
copied, and the gold and silver truth come along, with the track table cut
to the frames kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from ctc.errors import CTCInputError
from ctc.io.naming import (
    GT_TRACK_FILE,
    RAW_PREFIX,
    SEG_PREFIX,
    TRA_PREFIX,
    FrameFiles,
    find_frames,
    find_slice_annotations,
    frame_name,
    slice_name,
)
from ctc.lineage import Track, TrackTable, read_tracks, write_tracks


def trim_tracks(table: TrackTable, first: int, last: int) -> TrackTable:
    """The tracks of frames `first`..`last`, renumbered so that `first` becomes 0.

    A track is cut to the frames kept; one that lies wholly outside is
    dropped, and so is its link to any child (the child starts a new lineage:
    parent 0).
    """
    kept = {t.label: Track(t.label, max(t.begin, first) - first, min(t.end, last) - first,
                           t.parent)
            for t in table if t.begin <= last and t.end >= first}
    return TrackTable(
        Track(t.label, t.begin, t.end,
              t.parent if t.parent in kept and table[t.label].begin >= first else 0)
        for t in kept.values())


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    os.symlink(source.resolve(), target)


def _link_run(files: FrameFiles, folder: Path, keep: range, digits: int) -> None:
    """Link the frames of `files` within `keep` into `folder`, renumbered from keep's start
    (with the files' own number of digits, else `digits`)."""
    for t, path in files.paths.items():
        if t in keep:
            _link(path, folder / frame_name(files.prefix, t - keep.start,
                                            files.digits or digits))


def write_subsequence(dataset_dir: str | Path, sequence: str, first: int, last: int,
                      out_dir: str | Path, out_sequence: str) -> Path:
    """Make frames `first`..`last` of `sequence` the sequence `out_sequence` of `out_dir`.

    Raw frames, ``_GT/SEG``, ``_GT/TRA`` (markers and ``man_track.txt``) and
    ``_ST/SEG`` are linked under their new numbers (frame t becomes
    t - `first`); the track tables are cut with :func:`trim_tracks`.

    Returns
    -------
    Path
        The new sequence folder, ``out_dir/out_sequence``.
    """
    source, out = Path(dataset_dir), Path(out_dir)
    raw = find_frames(source / sequence, RAW_PREFIX)
    if not 0 <= first <= last or last not in raw.paths or first not in raw.paths:
        raise CTCInputError(f"frames {first}..{last} are not a run of the sequence's frames "
                            f"{raw.frames[0]}..{raw.frames[-1]}", source / sequence)
    keep = range(first, last + 1)
    _link_run(raw, out / out_sequence, keep, raw.digits)
    for kind in ("GT", "ST"):
        folder = source / f"{sequence}_{kind}"
        target = out / f"{out_sequence}_{kind}"
        seg = folder / "SEG"
        if seg.is_dir():
            _link_run(find_frames(seg, SEG_PREFIX, required=False), target / "SEG", keep,
                      raw.digits)
            for (t, z), path in find_slice_annotations(seg).items():
                if t in keep:
                    _link(path, target / "SEG" / slice_name(t - first, z, raw.digits))
        tra = folder / "TRA"
        if tra.is_dir():
            _link_run(find_frames(tra, TRA_PREFIX, required=False), target / "TRA", keep,
                      raw.digits)
            if (tra / GT_TRACK_FILE).is_file():
                write_tracks(target / "TRA" / GT_TRACK_FILE,
                             trim_tracks(read_tracks(tra / GT_TRACK_FILE), first, last))
    return out / out_sequence
