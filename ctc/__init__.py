"""ctc-toolkit: the Cell Tracking Challenge end to end.

I/O of CTC folders (:mod:`ctc.io`), the track table (:mod:`ctc.lineage`),
validation (:mod:`ctc.validation`) and repair (:mod:`ctc.repair`) of results.
The names below load on first use, so that ``import ctc`` (and the ``ctc``
command's start-up) stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "CTCError": "ctc.errors", "CTCFormatError": "ctc.errors", "CTCInputError": "ctc.errors",
    "CTCWarning": "ctc.errors", "Track": "ctc.lineage", "TrackTable": "ctc.lineage",
    "read_tracks": "ctc.lineage", "write_tracks": "ctc.lineage",
    "repair_result": "ctc.repair", "validate_result": "ctc.validation",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ctc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
