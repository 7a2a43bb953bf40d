"""Configuration dataclasses from plain dictionaries (JSON), refusing unknown keys."""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: dict, what: str) -> T:
    """``cls(**values)``, with a clear error naming the unknown keys of `what`."""
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {what} parameters: {sorted(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
    return cls(**values)
