"""Synthetic CTC datasets in the style of Fluo-N2DH-SIM+ and -N3DH-SIM+ (``ctc synth``).

A seeded simulator of fluorescent nuclei: cells of varied size, shape and
chromatin texture drift with persistent random motion, push each other apart
(so they touch without hiding each other), round up and brighten before they
divide (mitotic rounding) into two smaller daughters, and enter and leave the
field of view. Frames are rendered from the exact label map: uneven
illumination, optical blur, photon noise (signal-dependent, Gaussian limit of
Poisson counts) and read-out noise. With ``depth`` the frames are 3D
volumes: nuclei are flattened ellipsoids that also move in z, slices lie
``z_step`` pixels apart (anisotropic voxels, as in the real 3D datasets), the
point-spread function is longer along z, and deeper slices are dimmer.

Written per sequence in the CTC layout: raw frames ``NN/tTTT.tif`` (uint16),
gold truth ``NN_GT/SEG/man_segTTT.tif`` for every frame, tracking markers
``NN_GT/TRA/man_trackTTT.tif`` (the full masks, as for SIM+) and
``NN_GT/TRA/man_track.txt`` (3D: full volumes, or with ``slice_gt`` the
single-slice annotations ``man_seg_TTT_ZZZ.tif`` that the real 3D datasets
have). Track rules: a cell keeps its label while it is
visible in consecutive frames; daughters get new labels with their mother as
parent; a cell that vanishes (left the field, or fully covered) and comes
back starts a new track without parent.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

from ctc.errors import CTCInputError
from ctc.io.atomic import remove_stale, replace_dir, work_dir
from ctc.io.naming import frame_name, slice_name
from ctc.lineage import Track, TrackTable, write_tracks

__all__ = ["Simulation", "SynthConfig", "synth_dataset", "synth_sequence"]

_TEXTURE = 256  # side of the periodic chromatin texture tile
_FLAT = 0.7  # 3D: a nucleus's half-height relative to its radius (nuclei are flattened)


@dataclass
class SynthConfig:
    """Parameters of the simulator (lengths in pixels, times in frames).

    Attributes
    ----------
    shape : (int, int)
        Frame size (rows, columns).
    frames : int
        Frames per sequence.
    cells : int
        Cells in the field at the first frame.
    radius : (float, float)
        Range of interphase nucleus radii.
    speed : float
        Typical speed (pixels per frame) of the persistent random motion.
    cycle : (int, int)
        Range of cell-cycle lengths: frames from birth to division.
    mitosis : int
        Frames of mitotic rounding (shrinking, rounding, brightening) before a division.
    entries : float
        Mean number of cells entering the field per frame.
    brightness : (float, float)
        Range of nucleus brightness above the background (grey levels).
    background : float
        Background level (grey levels).
    illumination : float
        Relative amplitude of the smooth uneven illumination.
    blur : float
        Standard deviation of the Gaussian point spread function.
    noise : float
        Standard deviation of the Gaussian read-out noise.
    gain : float
        Grey levels per photon of the Poisson noise (larger = noisier).
    seed : int
        Random seed: equal seeds give equal sequences.
    depth : int
        Slices of a 3D volume (0: 2D frames).
    z_step : float
        Distance between slices, in pixels of x (3D only; the voxel's z/x ratio).
    blur_z : float
        Standard deviation of the point spread function along z, in pixels of x
        (3D only).
    attenuation : float
        Relative brightness lost from the first slice to the last (3D only).
    """

    shape: tuple[int, int] = (512, 512)
    frames: int = 50
    cells: int = 30
    radius: tuple[float, float] = (13.0, 23.0)
    speed: float = 1.5
    cycle: tuple[int, int] = (30, 80)
    mitosis: int = 4
    entries: float = 0.2
    brightness: tuple[float, float] = (40.0, 140.0)
    background: float = 90.0
    illumination: float = 0.25
    blur: float = 1.5
    noise: float = 3.0
    gain: float = 1.0
    seed: int = 0
    depth: int = 0
    z_step: float = 4.0
    blur_z: float = 3.0
    attenuation: float = 0.3

    def __post_init__(self) -> None:
        self.shape = tuple(int(s) for s in self.shape)
        self.radius = tuple(float(r) for r in self.radius)
        self.cycle = tuple(int(c) for c in self.cycle)
        self.brightness = tuple(float(b) for b in self.brightness)
        problems = []
        if len(self.shape) != 2 or min(self.shape) < 32:
            problems.append(f"shape {self.shape}: two sizes of at least 32 pixels")
        if self.frames < 1:
            problems.append(f"frames {self.frames}: at least 1")
        if self.cells < 0 or self.entries < 0:
            problems.append("cells and entries cannot be negative")
        if not 2 <= self.radius[0] <= self.radius[1]:
            problems.append(f"radius {self.radius}: 2 <= low <= high")
        if not 2 <= self.cycle[0] <= self.cycle[1]:
            problems.append(f"cycle {self.cycle}: 2 <= low <= high")
        if not 0 <= self.mitosis < self.cycle[0]:
            problems.append(f"mitosis {self.mitosis}: 0 <= mitosis < shortest cycle")
        if min(self.blur, self.noise, self.gain, self.illumination, self.speed) < 0:
            problems.append("blur, noise, gain, illumination and speed cannot be negative")
        if self.depth != 0 and self.depth < 3:
            problems.append(f"depth {self.depth}: 0 (2D) or at least 3 slices")
        if not self.z_step > 0 or self.blur_z < 0 or not 0 <= self.attenuation < 1:
            problems.append("z_step must be positive, blur_z not negative and attenuation "
                            "in [0, 1)")
        if problems:
            raise ValueError("invalid synthesis settings: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Cell:
    y: float
    x: float
    vy: float
    vx: float
    radius: float            # current interphase radius
    target: float            # radius reached when grown
    shape: np.ndarray        # amplitudes of harmonics 2..4 (2 = elongation)
    phase: np.ndarray        # their orientations
    brightness: float
    contrast: float          # texture contrast
    offset: tuple[int, int]  # where the cell samples the texture tile
    cycle: int
    age: int = 0
    boost: float = 0.0       # extra brightness of mitosis, decays in the daughters
    mother: int = -1         # simulation id of the mother (-1: none)
    uid: int = -1            # simulation id
    track: int = 0           # CTC label of its current track (0: none)
    seen: int = -2           # last frame it was visible in
    born: int = 0            # frame of birth (first frame for initial cells)
    z: float = 0.0           # 3D: height in pixels of x (slice index * z_step)
    vz: float = 0.0

    def mitotic(self, mitosis: int) -> float:
        """Progress 0..1 of mitotic rounding."""
        if mitosis <= 0:
            return 0.0
        return float(np.clip((self.age - (self.cycle - mitosis) + 1) / mitosis, 0, 1))


class Simulation:
    """One simulated sequence: iterate for ``(raw, labels)`` per frame, then read `tracks`.

    Parameters
    ----------
    config : SynthConfig
        The simulator's settings (seeded).

    Examples
    --------
    >>> sim = Simulation(SynthConfig(shape=(128, 128), frames=5, cells=4))
    >>> frames = list(sim)          # five (uint16 raw, uint16 labels) pairs
    >>> table = sim.tracks()        # the man_track.txt of those labels
    """

    def __init__(self, config: SynthConfig):
        self.c = config
        self.rng = np.random.default_rng(config.seed)
        h, w = config.shape
        self.margin = 2.5 * config.radius[1]
        self.cells: list[_Cell] = []
        self.next_uid = 0
        self._mothers: dict[int, tuple[int, int]] = {}  # uid -> (last track, last frame seen)
        self._tracks: dict[int, list[int]] = {}          # label -> [begin, end, parent]
        self._done = False
        tile = self.rng.standard_normal((_TEXTURE, _TEXTURE))
        texture = (0.6 * ndi.gaussian_filter(tile, 1.5, mode="wrap") / 0.19
                   + 0.4 * ndi.gaussian_filter(tile, 4.0, mode="wrap") / 0.07)
        self.texture = ((texture - texture.mean()) / texture.std()).astype(np.float32)
        field_ = ndi.gaussian_filter(self.rng.standard_normal((h, w)), min(h, w) / 5,
                                     mode="reflect")
        field_ = (field_ - field_.mean()) / max(np.abs(field_ - field_.mean()).max(), 1e-12)
        ramp = np.linspace(-1, 1, w)[None] * self.rng.uniform(-0.5, 0.5)
        self.illumination = (1 + config.illumination * np.clip(field_ + ramp, -1.5, 1.5)
                             ).astype(np.float32)
        self.yy, self.xx = np.mgrid[0:h, 0:w]
        self.top = (config.depth - 1) * config.z_step if config.depth else 0.0
        for _ in range(200 * max(config.cells, 1)):
            if len(self.cells) >= config.cells:
                break
            cell = self._new_cell(self.rng.uniform(0, h), self.rng.uniform(0, w))
            if all(np.hypot(np.hypot(cell.y - o.y, cell.x - o.x), (cell.z - o.z) / _FLAT)
                   > 0.95 * (cell.radius + o.radius) for o in self.cells):
                cell.age = int(self.rng.integers(0, cell.cycle))
                self._add(cell)

    # -- cells --------------------------------------------------------------------------------
    def _new_cell(self, y: float, x: float, radius: float | None = None,
                  z: float | None = None) -> _Cell:
        """A new cell at (y, x) (3D: at height `z`, or a random one)."""
        c, rng = self.c, self.rng
        target = rng.uniform(*c.radius)
        v = rng.normal(0, c.speed / np.sqrt(2), 2)
        cell = _Cell(y=y, x=x, vy=v[0], vx=v[1], radius=target if radius is None else radius,
                     target=target, shape=rng.uniform(0, 1, 3) * np.array([0.18, 0.06, 0.04]),
                     phase=rng.uniform(0, 2 * np.pi, 3), brightness=rng.uniform(*c.brightness),
                     contrast=rng.uniform(0.1, 0.3),
                     offset=tuple(int(o) for o in rng.integers(0, _TEXTURE, 2)),
                     cycle=int(rng.integers(c.cycle[0], c.cycle[1] + 1)))
        if c.depth:  # 3D draws come last: 2D sequences stay as they were
            cell.z = rng.uniform(0, self.top) if z is None else z
            cell.vz = rng.normal(0, c.speed / 4)
        return cell

    def _add(self, cell: _Cell) -> None:
        cell.uid = self.next_uid
        self.next_uid += 1
        self.cells.append(cell)

    def _geometry(self, cell: _Cell) -> tuple[float, np.ndarray, float]:
        """Effective radius, harmonic amplitudes and brightness, with mitotic rounding."""
        s = cell.mitotic(self.c.mitosis)
        radius = cell.radius * (1 - 0.2 * s)
        return radius, cell.shape * (1 - s), cell.brightness * (1 + max(1.2 * s, cell.boost))

    def step(self, frame: int) -> None:
        """Advance every cell by one frame: divisions, growth, motion, entries, exits."""
        c, rng = self.c, self.rng
        born: list[_Cell] = []
        for cell in self.cells:
            cell.age += 1
            cell.boost *= 0.6
            if cell.age < cell.cycle:
                grown = min(cell.age / (0.5 * cell.cycle), 1.0)
                cell.radius += (cell.target - cell.radius) * 0.2 * grown
                continue
            radius = cell.radius * 0.8
            angle = rng.uniform(0, np.pi)
            dy, dx = np.sin(angle), np.cos(angle)
            for sign in (1, -1):  # telophase: two daughters with a gap between them
                child = self._new_cell(cell.y + sign * 0.8 * radius * dy,
                                       cell.x + sign * 0.8 * radius * dx, radius=radius * 0.7,
                                       z=cell.z)
                child.target = float(np.clip(cell.target * rng.uniform(0.85, 1.15),
                                             *c.radius))
                child.vy, child.vx = cell.vy + sign * 0.8 * dy, cell.vx + sign * 0.8 * dx
                child.shape[0], child.phase[0] = 0.12, 2 * angle  # stretched along the axis
                child.brightness = cell.brightness * rng.uniform(0.85, 1.15)
                child.boost = 1.2
                child.mother, child.born = cell.uid, frame
                born.append(child)
            cell.uid = -1  # the mother ends here
        self.cells = [cell for cell in self.cells if cell.uid >= 0]
        for child in born:
            self._add(child)
        persistence = 0.85
        for cell in self.cells:
            kick = rng.normal(0, c.speed / np.sqrt(2) * np.sqrt(1 - persistence ** 2), 2)
            cell.vy = persistence * cell.vy + kick[0]
            cell.vx = persistence * cell.vx + kick[1]
            cell.y += cell.vy
            cell.x += cell.vx
            cell.phase[1:] += rng.normal(0, 0.05, 2)
            if c.depth:  # slower in z, and kept in the volume (reflected at its faces)
                cell.vz = persistence * cell.vz + rng.normal(0, c.speed / 4 * 0.5)
                cell.z += cell.vz
                if not 0 <= cell.z <= self.top:
                    cell.z = float(np.clip(abs(cell.z) if cell.z < 0 else 2 * self.top - cell.z,
                                           0, self.top))
                    cell.vz = -cell.vz
        self._separate()
        h, w = c.shape
        m = self.margin
        self.cells = [cell for cell in self.cells
                      if -m <= cell.y <= h + m and -m <= cell.x <= w + m]
        for _ in range(rng.poisson(c.entries)):
            side = int(rng.integers(4))
            along = rng.uniform(0, w if side < 2 else h)
            depth = rng.uniform(0.3, 1.0) * c.radius[1]
            y, x = ((-depth, along), (h + depth, along), (along, -depth), (along, w + depth))[side]
            cell = self._new_cell(y, x)
            toward = np.array([h / 2 - y, w / 2 - x])
            cell.vy, cell.vx = toward / np.linalg.norm(toward) * max(c.speed, 0.5) * 1.5
            cell.born = frame
            self._add(cell)

    def _separate(self, rounds: int = 4) -> None:
        """Push overlapping cells apart so that they touch without hiding each other."""
        if len(self.cells) < 2:
            return
        pos = np.array([[cell.y, cell.x] + ([cell.z / _FLAT] if self.c.depth else [])
                        for cell in self.cells])
        radii = np.array([self._geometry(cell)[0] for cell in self.cells])
        allowed = 0.9 * (radii[:, None] + radii[None])
        for _ in range(rounds):
            diff = pos[:, None] - pos[None]
            dist = np.sqrt((diff ** 2).sum(-1))
            np.fill_diagonal(dist, np.inf)
            overlap = np.clip(allowed - dist, 0, None)
            if not overlap.any():
                break
            push = (diff / np.maximum(dist, 1e-6)[..., None] * (0.5 * overlap)[..., None])
            pos += push.sum(1)
        for cell, p in zip(self.cells, pos, strict=True):
            cell.y, cell.x = float(p[0]), float(p[1])
            if self.c.depth:
                cell.z = float(np.clip(p[2] * _FLAT, 0, self.top))

    # -- rendering ----------------------------------------------------------------------------
    def owners(self) -> np.ndarray:
        """Index (into ``self.cells``) of the cell seen at each pixel (voxel), -1 for background."""
        h, w = self.c.shape
        depth, step = self.c.depth, self.c.z_step
        owner = np.full((depth, h, w) if depth else (h, w), -1, np.int32)
        # brighter nuclei are drawn over dimmer ones: mitotic cells come to the top
        order = sorted(range(len(self.cells)), key=lambda i: self._geometry(self.cells[i])[2])
        boxes = {}
        for i in order:
            cell = self.cells[i]
            radius, shape, _ = self._geometry(cell)
            reach = radius * (1 + shape.sum()) + 1
            y0, y1 = max(int(cell.y - reach), 0), min(int(cell.y + reach) + 2, h)
            x0, x1 = max(int(cell.x - reach), 0), min(int(cell.x + reach) + 2, w)
            if y0 >= y1 or x0 >= x1:
                continue
            dy = self.yy[y0:y1, x0:x1] - cell.y
            dx = self.xx[y0:y1, x0:x1] - cell.x
            angle = np.arctan2(dy, dx)
            boundary = radius * (1 + sum(a * np.cos((k + 2) * angle - p) for k, (a, p)
                                         in enumerate(zip(shape, cell.phase, strict=True))))
            if not depth:
                inside = dy ** 2 + dx ** 2 <= boundary ** 2
                owner[y0:y1, x0:x1][inside] = i
                boxes[i] = (slice(y0, y1), slice(x0, x1))
                continue
            # 3D: the outline shrinks towards the top and bottom of the flattened nucleus
            half = _FLAT * radius
            z0 = max(int(np.ceil((cell.z - half) / step)), 0)
            z1 = min(int(np.floor((cell.z + half) / step)) + 1, depth)
            for k in range(z0, z1):
                scale = 1 - ((k * step - cell.z) / half) ** 2
                if scale > 0:
                    inside = dy ** 2 + dx ** 2 <= boundary ** 2 * scale
                    owner[k, y0:y1, x0:x1][inside] = i
            if z0 < z1:
                boxes[i] = (slice(z0, z1), slice(y0, y1), slice(x0, x1))
        for i, box in boxes.items():  # a partly covered cell keeps its largest piece only
            pieces, n = ndi.label(owner[box] == i)
            if n > 1:
                sizes = np.bincount(pieces.ravel())
                sizes[0] = 0
                owner[box][(pieces > 0) & (pieces != sizes.argmax())] = -1
        return owner

    def render(self, owner: np.ndarray) -> np.ndarray:
        """The raw uint16 frame of a label map."""
        c, rng = self.c, self.rng
        cells = self.cells
        bright = np.array([self._geometry(cell)[2] for cell in cells] + [0.0], np.float32)
        mitotic = np.array([cell.mitotic(c.mitosis) for cell in cells] + [0.0])
        contrast = np.array([cell.contrast for cell in cells] + [0.0]) * (1 + mitotic)
        cy = np.array([int(cell.y) for cell in cells] + [0])
        cx = np.array([int(cell.x) for cell in cells] + [0])
        oy = np.array([cell.offset[0] for cell in cells] + [0])
        ox = np.array([cell.offset[1] for cell in cells] + [0])
        fg = owner >= 0
        # dark rims: distance to the cell's outline, touching neighbours included
        edge = np.zeros_like(fg)
        for axis in range(owner.ndim):
            step = np.diff(owner, axis=axis) != 0
            lo, hi = [slice(None)] * owner.ndim, [slice(None)] * owner.ndim
            lo[axis], hi[axis] = slice(None, -1), slice(1, None)
            edge[tuple(lo)] |= step
            edge[tuple(hi)] |= step
        inner = ndi.distance_transform_cdt(fg & ~edge, metric="taxicab")
        where = np.nonzero(fg)
        fy, fx = where[-2:]
        # 3D: each slice samples the texture a few rows further on
        fz = where[0] * 7 if owner.ndim == 3 else 0
        idx = owner[where]
        profile = 1 - 0.6 * np.exp(-inner[where] / 1.5)
        texture = self.texture[(fy - cy[idx] + oy[idx] + fz) % _TEXTURE,
                               (fx - cx[idx] + ox[idx]) % _TEXTURE]
        signal = np.zeros(owner.shape, np.float32)
        signal[where] = bright[idx] * profile * np.clip(1 + contrast[idx] * texture, 0.2, None)
        image = (np.float32(c.background) + signal) * self.illumination
        if owner.ndim == 3:  # deeper slices are dimmer; the PSF is longer along z
            fade = 1 - c.attenuation * np.linspace(0, 1, owner.shape[0], dtype=np.float32)
            image *= fade[:, None, None]
            if c.blur > 0 or c.blur_z > 0:
                image = ndi.gaussian_filter(image, (c.blur_z / c.z_step, c.blur, c.blur))
        elif c.blur > 0:
            image = ndi.gaussian_filter(image, c.blur)
        # photon noise (variance gain * signal: the Gaussian limit of Poisson counts at these
        # levels) and read-out noise, drawn together
        sd = np.sqrt(np.float32(c.gain) * np.clip(image, 0, None) + np.float32(c.noise) ** 2)
        image += sd * rng.standard_normal(image.shape, np.float32)
        return np.clip(np.rint(image), 0, 65535).astype(np.uint16)

    def label(self, owner: np.ndarray, frame: int) -> np.ndarray:
        """CTC labels of a frame's label map; extends the track table."""
        tracks = self._tracks
        next_label = len(tracks) + 1
        visible = np.unique(owner[owner >= 0])
        lut = np.zeros(len(self.cells) + 1, np.uint16)
        for i in visible.tolist():
            cell = self.cells[i]
            if not (cell.track and cell.seen == frame - 1):
                parent = 0
                mother = self._mothers.get(cell.mother)
                if cell.born == frame and mother is not None and mother[1] == frame - 1:
                    parent = mother[0]
                if next_label > 65535:
                    raise ValueError("more than 65535 tracks: shorten the sequence")
                cell.track = next_label
                tracks[next_label] = [frame, frame, parent]
                next_label += 1
            cell.seen = frame
            tracks[cell.track][1] = frame
            lut[i + 1] = cell.track
        # every cell's last track, so that daughters born next frame find their mother's
        self._mothers.update({cell.uid: (cell.track, cell.seen) for cell in self.cells
                              if cell.track})
        return lut[owner + 1]

    def __iter__(self):
        if self._done:
            raise RuntimeError("a Simulation runs once; make a new one")
        for t in range(self.c.frames):
            if t:
                self.step(t)
            owner = self.owners()
            labels = self.label(owner, t)
            yield self.render(owner), labels
        self._done = True

    def tracks(self) -> TrackTable:
        """The track table (``L B E P``) of the frames produced so far."""
        return TrackTable(Track(label, b, e, p) for label, (b, e, p) in self._tracks.items())


def annotated_slice(labels: np.ndarray) -> int:
    """The z-slice of a 3D label volume that shows the most nuclei (the lowest of ties)."""
    counts = [np.unique(plane[plane > 0]).size for plane in labels]
    return int(np.argmax(counts))


def synth_sequence(folder: str | Path, sequence: str, config: SynthConfig, *,
                   slice_gt: bool = False) -> TrackTable:
    """Write one sequence (raw frames and its gold truth) into dataset folder `folder`.

    With `slice_gt` (3D only) the segmentation truth is one annotated slice per
    frame, ``man_seg_TTT_ZZZ.tif`` (:func:`annotated_slice`), as in the real 3D
    datasets, instead of the full volume; the tracking markers stay 3D.
    """
    folder = Path(folder)
    digits = max(3, len(str(config.frames - 1)))
    raw_dir = folder / sequence
    seg_dir = folder / f"{sequence}_GT" / "SEG"
    tra_dir = folder / f"{sequence}_GT" / "TRA"
    for d in (raw_dir, seg_dir, tra_dir):
        d.mkdir(parents=True)
    sim = Simulation(config)
    for t, (raw, labels) in enumerate(sim):
        tifffile.imwrite(raw_dir / frame_name("t", t, digits), raw)
        if slice_gt and labels.ndim == 3:
            z = annotated_slice(labels)
            tifffile.imwrite(seg_dir / slice_name(t, z, digits), labels[z])
        else:
            tifffile.imwrite(seg_dir / frame_name("man_seg", t, digits), labels)
        tifffile.imwrite(tra_dir / frame_name("man_track", t, digits), labels)
    table = sim.tracks()
    write_tracks(tra_dir / "man_track.txt", table)
    return table


def synth_dataset(out: str | Path, config: SynthConfig | None = None,
                  sequences: tuple[str, ...] = ("01", "02"), *,
                  overwrite: bool = False, slice_gt: bool = False) -> dict[str, TrackTable]:
    """Write a synthetic CTC dataset folder with the given sequences.

    Sequence ``i`` uses seed ``config.seed + i``; `slice_gt`: see
    :func:`synth_sequence`. The folder is assembled
    beside `out` and moved into place only when complete; ``synth.json``
    records the settings.

    Returns
    -------
    dict
        The track table of each sequence.
    """
    config = config or SynthConfig()
    out = Path(out)
    if out.exists() and not overwrite:
        raise CTCInputError("exists already (pass overwrite=True / --overwrite to replace it)",
                            out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp = work_dir(out, "tmp")
    try:
        tables = {}
        for i, seq in enumerate(sequences):
            tables[seq] = synth_sequence(tmp, seq, replace(config, seed=config.seed + i),
                                         slice_gt=slice_gt)
        (tmp / "synth.json").write_text(json.dumps(
            {"simulator": "ctc.synth", "sequences": list(sequences), **config.to_dict(),
             "slice_gt": slice_gt}, indent=2))
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tables
