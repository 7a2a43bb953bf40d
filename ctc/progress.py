"""Progress of long work: a tqdm bar on a terminal, periodic plain lines otherwise.

tqdm draws only on a terminal; with the output redirected to a log file (a
batch job, a CTC executable under the organisers' scheduler) it would print
nothing useful until the end. There, :func:`progress_bar` prints one line
every `every` seconds instead, e.g. ``scoring 01_RES: 40/92 frames (43%),
12 s, about 16 s left``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

#: Seconds between two progress lines when the output is not a terminal (the environment
#: variable CTC_PROGRESS_EVERY overrides it).
LINE_EVERY = 10.0


def line_every() -> float:
    """Seconds between progress lines: ``CTC_PROGRESS_EVERY`` if set, else :data:`LINE_EVERY`."""
    try:
        return max(0.0, float(os.environ.get("CTC_PROGRESS_EVERY", LINE_EVERY)))
    except ValueError:
        return LINE_EVERY


class LineProgress:
    """The part of tqdm's interface the toolkit uses, printing plain periodic lines.

    Parameters
    ----------
    total : int, optional
        Number of steps expected.
    desc, unit : str
        What is counted, e.g. ``"scoring"`` and ``"frame"``.
    initial : int
        Steps already done (a resumed run).
    every : float, optional
        Seconds between two lines (default :func:`line_every`).
    file : text stream, optional
        Where to print (default standard error).
    """

    def __init__(self, total: int | None = None, *, desc: str = "", unit: str = "it",
                 initial: int = 0, every: float | None = None, file: IO[str] | None = None):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.every, self.file = line_every() if every is None else every, file
        self._initial = initial
        self._start = self._last = time.monotonic()
        self._postfix = ""
        self._printed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._print(now)

    def set_postfix(self, **values: Any) -> None:
        self._postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        if self._printed:  # short work stays silent; long work says it finished
            self._print(time.monotonic(), done=True)

    def _print(self, now: float, done: bool = False) -> None:
        elapsed = now - self._start
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        parts = [f"{self.desc}: {count} {self.unit}s"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        parts.append(f"{elapsed:.0f} s")
        done_now = self.n - self._initial
        if not done and self.total and done_now > 0:
            left = elapsed / done_now * (self.total - self.n)
            parts.append(f"about {left:.0f} s left")
        if self._postfix:
            parts.append(self._postfix)
        print(", ".join(parts) + (" (done)" if done else ""), file=self.file or sys.stderr,
              flush=True)
        self._printed = True

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Silent(LineProgress):
    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass


def progress_bar(total: int | None = None, *, desc: str = "", unit: str = "it",
                 initial: int = 0, enabled: bool = True, every: float | None = None):
    """A progress reporter with ``update``, ``set_postfix`` and ``close``.

    A tqdm bar when standard error is a terminal, a :class:`LineProgress`
    otherwise, and a silent counter when `enabled` is false.
    """
    if not enabled:
        return _Silent(total, desc=desc, unit=unit, initial=initial)
    if sys.stderr.isatty():
        from tqdm.auto import tqdm  # imported on use: it slows down start-up

        return tqdm(total=total, desc=desc, unit=unit, initial=initial, leave=False)
    return LineProgress(total, desc=desc, unit=unit, initial=initial, every=every)


def track_progress(iterable: Iterable, *, desc: str = "", unit: str = "it",
                   total: int | None = None, enabled: bool = True,
                   every: float | None = None) -> Iterator:
    """Iterate over `iterable`, reporting progress as :func:`progress_bar` does."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if not enabled:
        yield from iterable
        return
    bar = progress_bar(total, desc=desc, unit=unit, every=every)
    try:
        for item in iterable:
            yield item
            bar.update()
    finally:
        bar.close()
