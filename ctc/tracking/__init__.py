"""Tracking: per-frame instance masks -> CTC tracks with divisions and gaps.

- :class:`Tracker` links frames as they arrive (streaming, bounded memory).
- :func:`track` tracks in-memory label arrays.
- :func:`track_to_result` / :func:`track_folder` write a validated CTC result.
"""

from ctc.tracking.config import TrackingConfig
from ctc.tracking.features import FrameObjects, frame_objects
from ctc.tracking.io import track, track_folder, track_to_result
from ctc.tracking.linking import FrameLinks, assign, link_frames
from ctc.tracking.tracker import Tracker, TrackingResult

__all__ = [
    "FrameLinks", "FrameObjects", "Tracker", "TrackingConfig", "TrackingResult", "assign",
    "frame_objects", "link_frames", "track", "track_folder", "track_to_result",
]
