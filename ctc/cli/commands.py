"""The table of ``ctc`` subcommands: name -> (module that implements it, one-line help).

Kept free of imports so that ``ctc --help`` and ``ctc --version`` list every
command without loading any of them; only the module of the command given is
imported (torch, numba, dask and the networks load with the commands that use
them).
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("ctc.cli.demo",
             "run the offline demo: simulate -> train -> run the executable -> score -> report"),
    "synth": ("ctc.cli.synth",
              "simulate a CTC dataset of fluorescent nuclei with exact gold truth"),
    "validate": ("ctc.cli.validate",
                 "check a result (NN_RES) or tracking annotation (NN_GT/TRA) against the CTC "
                 "rules"),
    "repair": ("ctc.cli.repair",
               "write a repaired copy of a result whose lineage breaks the CTC rules"),
    "evaluate": ("ctc.cli.evaluate",
                 "score a result with SEG, DET, TRA, LNK, OP_CSB, OP_CTB (official "
                 "definitions)"),
    "batch-eval": ("ctc.cli.batch_eval",
                   "score every DATASET/NN_RES under a root folder (in parallel with Dask), "
                   "write a CSV"),
    "track": ("ctc.cli.track",
              "link per-frame instance masks into tracks (divisions, gaps) and write a CTC "
              "result"),
    "train": ("ctc.cli.train",
              "train a segmentation model (per dataset, or universal over several datasets)"),
    "calibrate": ("ctc.cli.calibrate",
                  "choose a model's post-processing thresholds on held-out frames of its "
                  "training data"),
    "segment": ("ctc.cli.segment",
                "segment a raw sequence into per-frame instance masks (no tracking)"),
    "run": ("ctc.cli.segment",
            "segment + track a sequence into a validated CTC result (DATASET/SEQ_RES)"),
    "datasets": ("ctc.cli.datasets",
                 "print the registry of CTC datasets (sizes, time steps, frames, models)"),
    "executables": ("ctc.cli.submission",
                    "generate the CTC executables and training scripts of every dataset"),
    "package": ("ctc.cli.submission", "assemble a validated submission ZIP (SW/ + results)"),
}


def summary(command: str) -> str:
    """The one-line help of `command`."""
    return COMMANDS[command][1]
