"""The offline demo: the whole challenge workflow on simulated data, no downloads.

1. :mod:`ctc.synth` simulates a small two-sequence dataset of fluorescent
   nuclei with exact gold truth (``Fluo-N2DH-SYNTH``);
2. a small U-Net trains on sequence 01 (fixed number of steps: reproducible);
3. the CTC executables of the dataset are generated into ``SW/`` beside the
   dataset, with the model in ``SW/models``, and ``SW/Fluo-N2DH-SYNTH-02.sh``
   runs exactly as the organisers would run it: it reads ``../DATASET/02`` and
   writes ``../DATASET/02_RES`` (segment + track, validated);
4. the result is scored against ``02_GT`` (SEG, DET, TRA, LNK, divisions) and
   drawn into ``02_RES_report.png`` (raw frame, overlay, lineage tree).

With ``dims=3`` the same steps run on 3D volumes (``Fluo-N3DH-SYNTH``: nuclei
imaged through slices 1.6 x-pixels apart, as in Fluo-N3DH-SIM+): the 2D U-Net learns from the
slices of the training volumes, and the executable predicts every slice,
stacks the probabilities and builds 3D nuclei (:mod:`ctc.segmentation.segment`);
the report adds orthogonal sections.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ctc.errors import CTCFormatError, CTCInputError

if TYPE_CHECKING:  # torch, numba and matplotlib load when the demo runs, not on import
    from ctc.metrics import Scores
    from ctc.segmentation.model import ModelConfig
    from ctc.segmentation.train import TrainConfig
    from ctc.synth import SynthConfig
    from ctc.validation import ValidationReport

__all__ = ["DEMO_DATASET", "DemoResult", "demo_settings", "run_demo"]

DEMO_DATASET = "Fluo-N2DH-SYNTH"
DEMO_DATASET_3D = "Fluo-N3DH-SYNTH"
#: The acceptance thresholds of the demo (on its own synthetic data).
THRESHOLDS = {"SEG": 0.7, "TRA": 0.9}


@dataclass
class DemoResult:
    dataset: Path
    result: Path
    report: Path
    validation: ValidationReport
    scores: Scores
    seconds: dict[str, float] = field(default_factory=dict)

    def passed(self) -> bool:
        """Valid result and every threshold of :data:`THRESHOLDS` reached."""
        return self.validation.valid and all(
            getattr(self.scores, k) >= v for k, v in THRESHOLDS.items())


def demo_settings(quick: bool = False, seed: int = 0, device: str = "auto", dims: int = 2
                  ) -> tuple[SynthConfig, ModelConfig, TrainConfig]:
    """Simulator, model and training settings of the demo (`quick`: about a third of the
    work; `dims` 3: the 3D demo)."""
    from ctc.segmentation.data import Augment
    from ctc.segmentation.model import ModelConfig
    from ctc.segmentation.nets import NetConfig
    from ctc.segmentation.train import TrainConfig
    from ctc.synth import SynthConfig

    if dims == 3:
        # the voxel geometry of Fluo-N3DH-SIM+ (0.125 x 0.125 x 0.2 um: z step 1.6 x-pixels),
        # a PSF 1.7 times longer along z than across
        synth = SynthConfig(shape=(128, 128), frames=10 if quick else 30, cells=8,
                            radius=(10.0, 15.0), entries=0.1, cycle=(15, 40), seed=seed,
                            depth=24, z_step=1.6, blur_z=2.5)
    else:
        synth = SynthConfig(shape=(256, 256), frames=24 if quick else 40, cells=12,
                            radius=(10.0, 16.0), entries=0.1, cycle=(20, 50), seed=seed)
    # 3D: each slice with its neighbours above and below (2.5D), to tell a nucleus from
    # the out-of-focus light of one beside it in z
    model = ModelConfig(net=NetConfig(base=16, depth=3), loss={"name": "wce"},
                        context=1 if dims == 3 else 0,
                        postprocess={"min_size": 30, "fill_holes": True, "tta": "none"})
    steps = (120 if quick else 2400) if dims == 3 else (150 if quick else 400)
    settings = TrainConfig(steps=steps, batch=4, crop=128, lr=2e-3,
                           restart=10_000, val_every=50, val_frames=2, seed=seed,
                           device=device, augment=Augment(scale=None, gain=(0.6, 1.4)))
    return synth, model, settings


def run_demo(out: str | Path, *, quick: bool = False, seed: int = 0, device: str = "auto",
             dims: int = 2, progress: bool = False, log=print) -> DemoResult:
    """Run the demo in folder `out` (created; must not hold a previous demo).

    Returns the scores, the validation report and where everything was written.
    """
    from ctc.datasets import read_registry, relative_spacing
    from ctc.metrics import evaluate
    from ctc.report import write_report
    from ctc.segmentation.train import train
    from ctc.submission import generate_executables
    from ctc.synth import synth_dataset
    from ctc.validation import validate_result

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "is not a folder" if not out.is_dir() else "is not empty"
        raise CTCInputError(f"{what}; the demo needs an empty or new folder (--out)", out)
    out.mkdir(parents=True, exist_ok=True)
    synth, model, settings = demo_settings(quick, seed, device, dims)
    seconds: dict[str, float] = {}
    name = DEMO_DATASET_3D if dims == 3 else DEMO_DATASET
    dataset = out / name

    start = time.perf_counter()
    tables = synth_dataset(dataset, synth)
    seconds["synth"] = time.perf_counter() - start
    size = "x".join(str(n) for n in ((synth.depth,) if synth.depth else ()) + synth.shape)
    log(f"1. simulated {name}: sequences 01 and 02, {synth.frames} frames {size}, "
        f"{len(tables['01'])} and {len(tables['02'])} tracks ({seconds['synth']:.1f} s) "
        f"-> {dataset}")

    sw = out / "SW"
    model_name = f"{name}-01"
    start = time.perf_counter()
    config = train(model, [(dataset, ["01"])], sw / "models" / model_name, settings,
                   progress=progress, log=lambda *_: None)
    (sw / "models" / model_name / "checkpoint.pt").unlink(missing_ok=True)
    seconds["train"] = time.perf_counter() - start
    val = config.scores.get("validation", {})
    log(f"2. trained a U-Net ({settings.steps} steps on 01"
        + (" slices" if dims == 3 else "") + ", held-out frames SEG "
        f"{val.get('SEG', float('nan')):.3f} DET {val.get('DET', float('nan')):.3f}, "
        f"{seconds['train']:.0f} s) -> {sw / 'models' / model_name}")

    row = (f"{name} {dims}D Fluo N H - - {synth.frames} {synth.frames} 3 "
           f"{int(sum(synth.radius))} no {model_name} 30\n")
    (sw / "datasets.txt").write_text(row)
    generate_executables(sw, read_registry(sw / "datasets.txt"), sw / "models")
    script = sw / f"{name}-02.sh"
    start = time.perf_counter()
    env = dict(os.environ)
    # the executable calls python3: make it this interpreter, with this ctc on its path
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1])] + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.run([str(script)], cwd=sw, env=env, capture_output=True, text=True)
    seconds["run"] = time.perf_counter() - start
    if proc.returncode != 0:
        raise CTCFormatError(f"{script.name} failed ({proc.returncode}): "
                             f"{proc.stderr.strip()[-800:]}", script)
    result = dataset / "02_RES"
    validation = validate_result(result)
    log(f"3. ran SW/{script.name} (reads ../{name}/02, writes ../{name}/02_RES, "
        f"{seconds['run']:.0f} s): {validation.summary()}")

    start = time.perf_counter()
    scores = evaluate(dataset / "02_GT", result, divisions=True)
    seconds["evaluate"] = time.perf_counter() - start
    values = {k: getattr(scores, k) for k in ("SEG", "DET", "TRA", "LNK")}
    log("4. scores on 02: " + "  ".join(f"{k} {v:.4f}" for k, v in values.items()))
    log(f"   divisions: {scores.DIV_TP} found, {scores.DIV_FP} false, {scores.DIV_FN} missed")
    report = write_report(dataset / "02", result, dataset / "02_RES_report.png",
                          title=f"ctc demo: {name} 02, model trained on 01",
                          scores=values, spacing=relative_spacing(dataset / "02"))
    log(f"5. report -> {report}")
    return DemoResult(dataset, result, report, validation, scores, seconds)
