"""Atomic writes: a temp file in the target's folder, then ``os.replace``, so readers never see half a file.

Every file skeletonmae writes (datasets, checkpoints, configs, metrics, pictures) goes through
:func:`atomic_path`: an interrupted run leaves the previous file intact, never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it replaces ``target``, on error it is removed.

    The temp name keeps the target's suffix (``np.save`` appends ``.npy`` otherwise).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        _flush_to_disk(temp)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _flush_to_disk(path: Path) -> None:
    """fsync the finished temp file so a crash after the rename cannot leave it empty."""
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def write_text_atomic(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json_atomic(target: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as indented JSON atomically; NaN / inf become null (JSON has neither)
    and other non-JSON values (paths) their ``str``."""
    return write_text_atomic(target, json.dumps(_finite_or_none(payload), indent=2, default=str) + "\n")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def save_npy_atomic(target: str | os.PathLike[str], array: np.ndarray) -> Path:
    """``np.save`` to ``target`` atomically (never pickles: object arrays are refused)."""
    with atomic_path(target) as temp:
        np.save(temp, np.asarray(array), allow_pickle=False)
    return Path(target)


def save_npz_atomic(target: str | os.PathLike[str], **arrays: np.ndarray) -> Path:
    """``np.savez`` to ``target`` atomically."""
    with atomic_path(target) as temp:
        with open(temp, "wb") as stream:
            np.savez(stream, allow_pickle=False, **arrays)
    return Path(target)
