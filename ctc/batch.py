"""Batch scoring of every result under a root folder, on a Dask cluster.

The per-sequence work is one plain function, :func:`score_sequence`, run the
same way on a local cluster (default) or on an existing one (``scheduler``).
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ctc.errors import CTCError, CTCInputError
from ctc.metrics import SCORE_KEYS, evaluate
from ctc.progress import progress_bar

COLUMNS = ["dataset", "sequence", *SCORE_KEYS, "n_seg_objects", "n_vertices", "n_edges",
           "seconds", "error"]


@dataclass(frozen=True)
class ResultSet:
    """One ``DATASET/NN_RES`` with its ``DATASET/NN_GT``."""

    dataset: str
    sequence: str
    gt: Path
    res: Path


def find_result_sets(root: str | Path) -> list[ResultSet]:
    """Every ``DATASET/NN_RES`` under `root` that has a matching ``DATASET/NN_GT``."""
    root = Path(root)
    if not root.is_dir():
        raise CTCInputError("root folder not found", root)
    found = []
    for res in sorted(root.glob("*/*_RES")):
        match = re.match(r"^([0-9]+)_RES$", res.name)
        gt = res.parent / f"{match.group(1)}_GT" if match else None
        if gt is not None and res.is_dir() and gt.is_dir():
            found.append(ResultSet(res.parent.name, match.group(1), gt, res))
    return found


def fp_penalties(sets: list[ResultSet], penalize_fp: bool | None = None) -> list[bool]:
    """Whether DET counts false positives for each result set: `penalize_fp` when
    given, else the registry's ``det_fp_penalty`` (True for datasets it does not know)."""
    if penalize_fp is not None:
        return [penalize_fp] * len(sets)
    from ctc.datasets import read_registry

    registry = read_registry()
    return [registry[r.dataset].det_fp_penalty if r.dataset in registry else True
            for r in sets]


def score_sequence(result: ResultSet, metrics="all", penalize_fp: bool = True,
                   allow_invalid: bool = False) -> dict:
    """Score one result set; never raises: a failure is reported in the ``error`` column."""
    row = {"dataset": result.dataset, "sequence": result.sequence, "error": "",
           "det_fp_penalty": penalize_fp}
    try:
        scores = evaluate(result.gt, result.res, metrics, penalize_fp=penalize_fp,
                          allow_invalid=allow_invalid)
        row.update(scores.to_dict(extra=True))
    except CTCError as exc:
        row["error"] = str(exc)
    except Exception as exc:  # a worker must report, not die, on unexpected input
        row["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return row


def batch_evaluate(
    root: str | Path,
    *,
    metrics="all",
    penalize_fp: bool | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    allow_invalid: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Score every result set under `root` in parallel.

    Parameters
    ----------
    root : path
        Folder holding dataset folders (``ROOT/DATASET/NN_RES`` + ``NN_GT``).
    metrics : str or list, optional
        Measures to compute (default ``"all"``: every measure the ground truth
        allows, the biological and tracking measures included).
    penalize_fp : bool, optional
        Count false positives in DET. Default: as the registry says for each
        dataset (``datasets.txt``, column ``det_fp_penalty``): not for
        Fluo-N3DL-DRO, -TRIC and -TRIF, whose GT annotates only some nuclei
        (the official "extra detections not penalised" option), else yes.
        The column ``det_fp_penalty`` of the table says what was applied.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); its
        workers must see `root` at the same path. Default: a local cluster.
    workers : int, optional
        Processes of a local Dask cluster; ``workers=1`` runs in this process
        without Dask. Default: this process on machines with two cores or
        fewer, or for a single result set (starting a cluster costs more than
        it saves there: measured 3x slower on 2 cores); else one per core, at
        most one per result set.
    allow_invalid : bool
        Score results that break the CTC rules instead of reporting them as
        errors (see :func:`ctc.metrics.evaluate`).
    progress : bool
        Show progress.

    Returns
    -------
    pandas.DataFrame
        One row per result set with the columns of :data:`COLUMNS`, then
        those of the extra measures computed (``CT``, ``BC(0)``, ``HOTA``, ...).
    """
    sets = find_result_sets(root)
    if not sets:
        raise CTCInputError("no DATASET/NN_RES folder with a matching NN_GT found", root)
    bar = progress_bar(total=len(sets), desc="scoring", unit="seq", enabled=progress)
    rows = []
    if workers is None and scheduler is None:
        workers = 1 if (os.cpu_count() or 1) <= 2 or len(sets) == 1 else None
    penalties = fp_penalties(sets, penalize_fp)
    if workers == 1 and scheduler is None:
        for result, penalty in zip(sets, penalties, strict=True):
            rows.append(score_sequence(result, metrics, penalty, allow_invalid))
            bar.update()
    else:
        from dask.distributed import Client, LocalCluster, as_completed

        if scheduler is not None:
            cluster, client = None, Client(scheduler)
        else:
            n = workers or min(len(sets), os.cpu_count() or 1)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            futures = [client.submit(score_sequence, result, metrics, penalty, allow_invalid,
                                     pure=False)
                       for result, penalty in zip(sets, penalties, strict=True)]
            for future in as_completed(futures):
                rows.append(future.result())
                bar.update()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    bar.close()
    frame = pd.DataFrame(rows)
    extra = [c for c in frame.columns if c not in COLUMNS and c != "det_fp_penalty"]
    table = frame.reindex(columns=COLUMNS[:-1] + ["det_fp_penalty"] + extra + COLUMNS[-1:])
    numeric = COLUMNS[2:-1]
    table[numeric + extra] = table[numeric + extra].apply(pd.to_numeric)
    counts = ["NS", "FN", "FP", "ED", "EA", "EC", "n_seg_objects", "n_vertices", "n_edges"]
    table[counts] = table[counts].astype("Int64")
    table["error"] = table["error"].fillna("")
    return table.sort_values(["dataset", "sequence"]).reset_index(drop=True)


def summary(table: pd.DataFrame) -> str:
    """Human-readable table of the measures, one line per result set."""
    extra = [c for c in ("BIO(0)", "OP_CLB(0)", "CHOTA", "HOTA", "IDF1", "MOTA")
             if c in table.columns]
    shown = table[["dataset", "sequence", "SEG", "DET", "TRA", "LNK", "OP_CSB", "OP_CTB",
                   *extra, "seconds"]].copy()
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.6f}", na_rep="-")
    failed = table[table["error"] != ""]
    lines = [text]
    if "det_fp_penalty" in table.columns:
        lenient = table[table["det_fp_penalty"] == False]  # noqa: E712 (pandas mask)
        if len(lenient):
            names = ", ".join(f"{r['dataset']}/{r['sequence']}" for _, r in lenient.iterrows())
            lines.append(f"DET without the false-positive penalty (extra detections not "
                         f"penalised, as the challenge scores these datasets): {names}")
    for _, row in failed.iterrows():
        lines.append(f"FAILED {row['dataset']}/{row['sequence']}: "
                     f"{row['error'].splitlines()[0]}")
    return "\n".join(lines)
