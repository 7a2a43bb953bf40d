"""Ranges of the numbers a CTC file may hold, checked before they drive a loop or allocation."""

from __future__ import annotations

#: The largest label a CTC mask can hold (masks are uint16).
MAX_LABEL = 65535

#: Frame numbers run from 0 to MAX_FRAMES - 1 (five digits; the longest CTC sequences
#: have under 2,000 frames). Larger numbers in a file name or a track table are refused.
MAX_FRAMES = 100_000
