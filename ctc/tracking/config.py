"""Tracking parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ctc.configs import from_dict


@dataclass(frozen=True)
class TrackingConfig:
    """Parameters of :class:`ctc.tracking.Tracker`.

    Attributes
    ----------
    min_iou : float
        Two objects of consecutive frames may be linked when their IoU reaches
        this value ...
    min_overlap : float
        ... or when their intersection covers this fraction of either object
        (small or fast objects have a low IoU but still overlap).
    max_displacement : float
        Objects with no overlap candidate may be linked by centroid distance
        up to this many pixels (the dataset's maximum displacement per frame).
    division : bool
        Detect mitoses: a track replaced by two new objects ends and both
        start as its daughters.
    max_daughters : int
        Daughters per division (2 by default).
    division_min_overlap : float
        A new object is a daughter candidate when this fraction of it lies in
        the mother's footprint of the previous frame ...
    division_max_distance : float
        ... or when its centroid lies within this many mother radii of the
        mother's centroid.
    daughter_size_ratio : float
        The smaller daughter must be at least this fraction of the larger.
    division_max_iou : float
        No division when a daughter still overlaps the mother with at least
        this IoU: the mother continued and a newcomer appeared beside it.
    division_shrink : float
        A daughter found by proximity only (too little of it in the mother's
        footprint) also needs the mother's other daughter to have shrunk to
        this fraction of the mother's size: a mother that keeps its size
        beside a newcomer has not divided.
    max_gap : int
        Link a track that disappears for up to this many frames to an object
        that appears near its last position (as a new track with the old one
        as parent, per the CTC rules). 0 (default) disables gap closing: the
        TRA measure charges a redundant edge for such a link whenever the
        reference object is present during the gap, which is the common case
        of a missed detection.
    min_track_length : int
        Remove tracks shorter than this many frames that belong to no
        lineage (``t_length``; 0 or 1 keeps every track).
    merge_window : int
        Undo a division whose daughters merge back within this many frames
        (``t_merge``; 0 disables).
    split_merged : bool
        Cut an object into which two or more objects of the previous frame have
        moved into one part per object: touching cells the segmentation merged
        for a few frames (``ctc.tracking.merges``). ``ctc calibrate --tracking``
        turns it on where it helps on the training sequences.
    spacing : tuple of float, optional
        Pixel or voxel size along each axis ((y, x) or (z, y, x)) relative to
        x: centroids, distances and radii are measured in x pixels, so a 3D
        volume whose z step is several times its x step is not squeezed along
        z. None (default): isotropic.
    """

    min_iou: float = 0.1
    min_overlap: float = 0.3
    max_displacement: float = 30.0
    division: bool = True
    max_daughters: int = 2
    division_min_overlap: float = 0.2
    division_max_distance: float = 2.0
    daughter_size_ratio: float = 0.05
    division_max_iou: float = 0.65
    division_shrink: float = 0.75
    max_gap: int = 0
    min_track_length: int = 0
    merge_window: int = 0
    split_merged: bool = False
    spacing: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("min_iou", "min_overlap", "division_min_overlap", "daughter_size_ratio",
                     "division_shrink", "division_max_iou"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        for name in ("max_gap", "min_track_length", "merge_window"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.max_daughters < 2:
            raise ValueError("max_daughters must be >= 2")
        if self.max_displacement < 0:
            raise ValueError("max_displacement must be >= 0")
        if self.spacing is not None:
            spacing = tuple(float(v) for v in self.spacing)
            if len(spacing) not in (2, 3) or not all(v > 0 for v in spacing):
                raise ValueError(f"spacing must be 2 or 3 positive sizes, got {self.spacing!r}")
            object.__setattr__(self, "spacing", spacing)  # a JSON list becomes a tuple

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrackingConfig:
        return from_dict(cls, values, "tracking")
