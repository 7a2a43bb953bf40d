"""Exception and warning types shared by the whole toolkit.

Every error raised on bad input names the file (or folder) at fault and says
how to fix it; the CLI prints the message without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class CTCError(Exception):
    """Base class of all errors the toolkit raises on bad input.

    ``exit_code`` is the status the ``ctc`` command exits with (2: unusable input).
    """

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        self.message = message
        super().__init__(f"{path}: {message}" if path is not None else message)


class CTCInputError(CTCError):
    """The input cannot be used at all (missing folder, no frames, ...)."""


class CTCFormatError(CTCError):
    """A file exists but its content breaks the CTC format."""


class CTCInvalidResultError(CTCFormatError):
    """A result breaks the CTC rules, so it is not scored (as the official tools refuse it).

    The command exits with status 1, as ``ctc validate`` does for an invalid result.
    """

    exit_code = 1


class CTCWarning(UserWarning):
    """Legal but risky data, such as an empty RES frame."""
