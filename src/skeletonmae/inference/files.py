"""Atomic output files of the inference commands (features, exported models, sidecar JSON)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.atomic import atomic_path

__all__ = ["write_atomic", "save_npy", "write_json"]


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Run ``write(temp)`` on a temp file beside ``path``, then rename it onto ``path``; on error
    the temp file is removed."""
    with atomic_path(path) as temp:
        write(temp)
    return Path(path)


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """``np.save`` without pickles, atomically."""
    return write_atomic(path, lambda temp: np.save(temp, np.asarray(array), allow_pickle=False))


def write_json(path: str | os.PathLike[str], payload: Any) -> Path:
    """Indented JSON, atomically."""
    text = json.dumps(payload, indent=2, default=str) + "\n"
    return write_atomic(path, lambda temp: temp.write_text(text, encoding="utf-8"))
