"""Exceptions of the data layer: every message names the file, where in it, what was expected and the fix."""

from __future__ import annotations

import os
from pathlib import Path


class DataFormatError(ValueError):
    """An input file does not hold what its format promises: ``"<file>, line 12: expected ..., got
    ...; <fix>"``, the parts kept (``path``, ``line``, ``key``, ``problem``) for batch preparation."""

    def __init__(
        self, path: str | os.PathLike | None, problem: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line, self.key, self.problem = line, key, problem
        where = [str(self.path) if self.path is not None else "<input>"]
        if line is not None:
            where.append(f"line {line}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class ForbiddenPickleError(DataFormatError):
    """A pickle asked for a global outside the allow-list (code, not data)."""


class PreparationError(RuntimeError):
    """Strict preparation found bad input files; ``report`` lists them (the dataset was still written)."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report
