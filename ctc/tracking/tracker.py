"""Per-frame instance masks -> tracks with lineage, streamed frame by frame.

:class:`Tracker` sees each frame once and keeps only small per-object data
(labels, sizes, centroids, links), so memory does not grow with the image
size of a long sequence. :meth:`Tracker.finish` applies the lineage clean-up
and returns the track table with, for every frame, the mapping from input
labels to track labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ctc.errors import CTCFormatError
from ctc.lineage import Track, TrackTable
from ctc.overlap import Overlaps, overlaps
from ctc.tracking.config import TrackingConfig
from ctc.tracking.features import FrameObjects, check_label_image, frame_objects
from ctc.tracking.linking import link_frames
from ctc.tracking.merges import split_merged


@dataclass
class _Track:
    begin: int
    end: int
    parent: int = 0  # provisional id of the parent track
    nodes: list[tuple[int, int]] = field(default_factory=list)  # (frame, input label)


@dataclass
class TrackingResult:
    """Output of :meth:`Tracker.finish`.

    Attributes
    ----------
    tracks : TrackTable
        The CTC track table (labels 1..N).
    mappings : list of dict
        For frame t, input label -> track label (labels absent are removed).
    """

    tracks: TrackTable
    mappings: list[dict[int, int]]


class Tracker:
    """Link the instance masks of a sequence into tracks with divisions.

    Parameters
    ----------
    config : TrackingConfig, optional
        Linking, division, gap-closing and clean-up parameters.

    Examples
    --------
    >>> tracker = Tracker(TrackingConfig(max_displacement=20))   # doctest: +SKIP
    >>> for mask in masks:                                       # doctest: +SKIP
    ...     tracker.add(mask)
    >>> result = tracker.finish()                                # doctest: +SKIP
    """

    def __init__(self, config: TrackingConfig | None = None):
        self.config = config or TrackingConfig()
        self._objects: list[FrameObjects] = []
        self._prev_mask: np.ndarray | None = None
        self._tracks: dict[int, _Track] = {}
        self._track_of: list[dict[int, int]] = []  # frame -> input label -> track id
        self._pairs: list[Overlaps | None] = []   # overlaps of frame t-1 with t
        self._divided: set[int] = set()

    @property
    def n_frames(self) -> int:
        return len(self._objects)

    def add(self, mask: np.ndarray) -> np.ndarray:
        """Add the next frame's label image; returns it checked, with merged objects cut
        apart when ``split_merged`` is on: the labels the track mappings refer to."""
        t = self.n_frames
        mask = check_label_image(mask, f"frame {t}")
        if self._prev_mask is not None and mask.shape != self._prev_mask.shape:
            raise CTCFormatError(
                f"frame {t} has shape {mask.shape} but frame {t - 1} has "
                f"{self._prev_mask.shape}; all frames of a sequence need one shape")
        names = (f"frame {t - 1}", f"frame {t}")
        ov = None if self._prev_mask is None else overlaps(self._prev_mask, mask, names)
        if self.config.split_merged and ov is not None:
            cut = split_merged(self._prev_mask, mask, ov, spacing=self._spacing(mask))
            if cut is not mask:  # the overlaps changed with the labels
                mask, ov = cut, overlaps(self._prev_mask, cut, names)
        objects = frame_objects(mask, self.config.spacing)
        # New tracks are numbered in raster order of their centroids, so that the
        # output does not depend on the input labels.
        raster = objects.labels[np.lexsort(objects.centroid.T[::-1])].tolist()
        track_of: dict[int, int] = {}
        if self._prev_mask is None:
            for label in raster:
                track_of[label] = self._new_track(t, label)
            self._pairs.append(None)
        else:
            prev = self._objects[-1]
            links = link_frames(prev, objects, ov, self.config)
            prev_track = self._track_of[-1]
            born = []
            for label in raster:
                if label in links.continuation:
                    tid = prev_track[links.continuation[label]]
                    self._tracks[tid].end = t
                    self._tracks[tid].nodes.append((t, label))
                    track_of[label] = tid
                else:
                    parent = 0
                    if label in links.mother:
                        parent = prev_track[links.mother[label]]
                        self._divided.add(parent)
                    else:
                        born.append(label)
                    track_of[label] = self._new_track(t, label, parent)
            if self.config.max_gap > 0 and born:
                self._close_gaps(t, objects, born, track_of)
            self._pairs.append(ov if self.config.merge_window > 0 else None)
        self._objects.append(objects)
        self._track_of.append(track_of)
        self._prev_mask = mask
        return mask

    def _spacing(self, mask: np.ndarray) -> tuple[float, ...] | None:
        spacing = self.config.spacing
        return spacing if spacing is not None and len(spacing) == mask.ndim else None

    def _new_track(self, t: int, label: int, parent: int = 0) -> int:
        tid = len(self._tracks) + 1
        self._tracks[tid] = _Track(t, t, parent, [(t, label)])
        return tid

    def _close_gaps(self, t: int, objects: FrameObjects, born: list[int],
                    track_of: dict[int, int]) -> None:
        """Give new objects a parent among tracks that vanished 1..max_gap frames ago."""
        ended = [tid for tid, tr in self._tracks.items()
                 if t - 1 - self.config.max_gap <= tr.end <= t - 2
                 and tid not in self._divided and not self._has_gap_child(tid)]
        if not ended:
            return
        last = np.array([self._centroid(self._tracks[tid]) for tid in ended])
        gap = np.array([t - self._tracks[tid].end for tid in ended], dtype=np.float64)
        here = objects.centroid[objects.index(np.array(born))]
        dist = np.linalg.norm(here[:, None, :] - last[None, :, :], axis=2)
        allowed = dist <= self.config.max_displacement * gap[None, :]
        cost = np.where(allowed, dist, 1e12)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if allowed[r, c]:
                self._tracks[track_of[born[r]]].parent = ended[c]

    def _has_gap_child(self, tid: int) -> bool:
        return any(tr.parent == tid for tr in self._tracks.values())

    def _centroid(self, track: _Track) -> np.ndarray:
        frame, label = track.nodes[-1]
        objects = self._objects[frame]
        return objects.centroid[objects.index(np.array([label]))[0]]

    # -- lineage clean-up and output ------------------------------------------------

    def finish(self) -> TrackingResult:
        """Apply the lineage clean-up and number the tracks 1..N."""
        if not self.n_frames:
            raise CTCFormatError("no frame was added to the tracker")
        tracks = {tid: _Track(tr.begin, tr.end, tr.parent, list(tr.nodes))
                  for tid, tr in self._tracks.items()}
        if self.config.merge_window > 0:
            self._undo_false_divisions(tracks)
        if self.config.min_track_length > 1:
            has_children = {tr.parent for tr in tracks.values()}
            for tid in [tid for tid, tr in tracks.items()
                        if tr.end - tr.begin + 1 < self.config.min_track_length
                        and tr.parent == 0 and tid not in has_children]:
                del tracks[tid]
        order = sorted(tracks, key=lambda tid: (tracks[tid].begin, tid))
        out = {tid: i + 1 for i, tid in enumerate(order)}
        table = TrackTable(Track(out[tid], tracks[tid].begin, tracks[tid].end,
                                 out.get(tracks[tid].parent, 0)) for tid in order)
        mappings: list[dict[int, int]] = [{} for _ in range(self.n_frames)]
        for tid in order:
            for frame, label in tracks[tid].nodes:
                mappings[frame][label] = out[tid]
        return TrackingResult(table, mappings)

    def _undo_false_divisions(self, tracks: dict[int, _Track]) -> None:
        """Merge back daughters that re-fuse within ``merge_window`` frames.

        A division is undone when one daughter vanishes without children within
        the window and most of its last object lies in the next frame's object
        of its sibling: both daughters' objects become the mother's again.
        """
        window = self.config.merge_window
        children: dict[int, list[int]] = {}
        for tid, tr in tracks.items():
            if tr.parent:
                children.setdefault(tr.parent, []).append(tid)
        for mother, kids in sorted(children.items()):
            if len(kids) != 2 or mother not in tracks:
                continue
            a, b = kids
            for gone, sibling in ((a, b), (b, a)):
                tg, ts = tracks.get(gone), tracks.get(sibling)
                if tg is None or ts is None or tg.begin != ts.begin:
                    continue
                end = tg.end
                if end - tg.begin + 1 > window or end + 1 > ts.end or gone in children:
                    continue
                if not self._merges_into(tg.nodes[-1], ts, end + 1):
                    continue
                mom = tracks[mother]
                mom.nodes += tg.nodes + ts.nodes
                mom.end = ts.end
                for tr in tracks.values():
                    if tr.parent == sibling:
                        tr.parent = mother
                del tracks[gone], tracks[sibling]
                break

    def _merges_into(self, node: tuple[int, int], sibling: _Track, frame: int) -> bool:
        ov = self._pairs[frame]
        if ov is None:
            return False
        target = [lab for f, lab in sibling.nodes if f == frame]
        _, label = node
        hit = (ov.pair_a == label) & np.isin(ov.pair_b, target)
        if not hit.any():
            return False
        area = self._objects[frame - 1].area[self._objects[frame - 1].index(np.array([label]))[0]]
        return ov.pair_area[hit].sum() >= 0.5 * area
