"""Peak memory of segmenting one 3D frame, by post-processing method (tracemalloc).

Simulates one Fluo-N3DH-SIM+-style frame (``ctc.synth``, default 30x512x512,
z step 1.6), normalises it and segments it with
``ctc.segmentation.segment.segment_image`` once per method, reporting the
peak of the memory Python and NumPy allocate (not the interpreter and torch
themselves: ``eval/bench_3d.py`` measures the whole process), in MiB and as a
multiple of the frame's float32 size, with the time and the object count. One
torch thread, so the figure does not depend on the cores.

Usage::

    python eval/profile_3d_memory.py [--model models/nuclei-3d] [--depth 30] [--size 512]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ctc.io.naming import RAW_PREFIX, find_frames  # noqa: E402
from ctc.io.tiff import read_frame  # noqa: E402
from ctc.segmentation.data import sequence_normalization  # noqa: E402
from ctc.segmentation.model import load_model  # noqa: E402
from ctc.segmentation.segment import segment_image  # noqa: E402
from ctc.synth import SynthConfig, synth_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "nuclei-3d")
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config, net = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "Fluo-N3DH-SYNTH"
        synth_dataset(dataset, SynthConfig(shape=(args.size, args.size), frames=1, cells=40,
                                           radius=(10.0, 16.0), depth=args.depth,
                                           z_step=1.6, blur_z=2.5), ("01",))
        raw = find_frames(dataset / "01", RAW_PREFIX)
        volume = sequence_normalization(dataset / "01", config.normalization)(
            read_frame(raw.paths[raw.frames[0]]))
    frame_mib = volume.astype(np.float32).nbytes / 2 ** 20
    rows = []
    for method in ("components", "watershed"):
        config.postprocess["method"] = method
        tracemalloc.start()
        start = time.perf_counter()
        labels = segment_image(net, config, volume, "cpu", spacing=(1.6, 1.0, 1.0))
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        rows.append({"method": method, "frame": "x".join(map(str, volume.shape)),
                     "frame_float32_mib": round(frame_mib, 1), "peak_mib": round(peak),
                     "peak_frames": round(peak / frame_mib, 1), "seconds": round(seconds, 1),
                     "objects": int(labels.max())})
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
