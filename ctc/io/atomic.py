"""Folders written atomically: built under a hidden work name, moved into place when complete.

A work folder beside the target ``T`` is named ``.T.partial-HOST-PID-TOKEN``
(``.T.old-HOST-PID-TOKEN`` for a previous ``T`` being replaced), so that a
later run can recognise the leftovers of a killed one (SIGKILL, power loss)
and remove them: a work folder of this host whose process no longer runs is
stale. Folders get the user's normal permissions (``0o777`` less the umask),
not the ``0o700`` of :func:`tempfile.mkdtemp`.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path

#: Work folders named as older versions of the toolkit named them (no host, no pid) are
#: removed once untouched for this long.
LEGACY_STALE_SECONDS = 600


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(name)}\.(partial|old|tmp)-(?:(?P<host>[A-Za-z0-9._]+)-"
                      rf"(?P<pid>[0-9]+)-[0-9a-f]{{8}}|(?P<legacy>[A-Za-z0-9_]{{8}}))$")


def work_dir(target: str | Path, kind: str = "partial") -> Path:
    """Create and return a new hidden work folder beside `target` (user permissions)."""
    target = Path(target)
    for _ in range(100):
        path = target.parent / (f".{target.name}.{kind}-{_host()}-{os.getpid()}-"
                                f"{secrets.token_hex(4)}")
        try:
            os.mkdir(path, 0o777)  # the umask applies, as for any folder the user makes
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a work folder beside {target}")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(target: str | Path) -> list[Path]:
    """Remove the work folders of killed runs beside `target`; return what was removed.

    Only folders named by :func:`work_dir` for this `target` are touched: those
    of this host whose process is gone, and legacy-named ones untouched for
    :data:`LEGACY_STALE_SECONDS`. A stale ``.old`` folder is the previous
    result of a run killed in the middle of replacing it: when `target` is
    missing it is moved back into place instead of being removed.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = _pattern(target.name)
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []
    for path in entries:
        match = pattern.match(path.name)
        if not match or not path.is_dir():
            continue
        if match.group("legacy"):
            try:
                stale = time.time() - path.stat().st_mtime > LEGACY_STALE_SECONDS
            except OSError:
                continue
        else:
            stale = match.group("host") == _host() and not _process_alive(
                int(match.group("pid")))
        if not stale:
            continue
        if match.group(1) == "old" and not target.exists():
            os.replace(path, target)
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def replace_dir(src: Path, dst: Path) -> None:
    """Move folder `src` to `dst`, replacing `dst` if it exists, never losing both."""
    if not dst.exists():
        os.replace(src, dst)
        return
    old = work_dir(dst, "old")
    os.rmdir(old)
    os.replace(dst, old)
    try:
        os.replace(src, dst)
    except BaseException:
        os.replace(old, dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def user_mode(directory: bool = False) -> int:
    """Permissions of a new file (``0o666``) or folder (``0o777``) less the user's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask
