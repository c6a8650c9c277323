"""What a run folder records besides checkpoints (docs/training.md, "The run folder"): env.json,
metrics.csv (one row per epoch; a resumed run replaces the rows it redoes) and TensorBoard events."""

from __future__ import annotations

import csv
import io
import logging
import math
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skeletonmae import __version__
from skeletonmae.atomic import write_text_atomic

logger = logging.getLogger(__name__)


def git_commit(folder: Path | None = None) -> str | None:
    """The commit of the git checkout holding ``folder`` (this package by default), or None."""
    folder = folder or Path(__file__).resolve().parent
    try:
        command = ["git", "rev-parse", "HEAD"]
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def environment_info(seed: int, world_size: int) -> dict[str, Any]:
    """What is needed to reproduce a run besides its config."""
    return {
        "skeletonmae": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "torch_threads": torch.get_num_threads(),
        "git_commit": git_commit(),
        "seed": seed,
        "world_size": world_size,
        "command": " ".join(sys.argv),
    }


class MetricsLog:
    """Per-epoch metric rows kept in memory and mirrored to ``metrics.csv`` (atomic rewrite) when
    ``write`` is true (rank 0; the other ranks keep the same rows in memory only)."""

    def __init__(self, path: Path, rows: Sequence[Mapping[str, float]] = (), write: bool = True) -> None:
        self.path = path
        self.rows: list[dict[str, float]] = [dict(r) for r in rows]
        self.write = write

    @classmethod
    def resume(cls, path: Path, before_epoch: int, write: bool = True) -> MetricsLog:
        """Reload rows of epochs ``< before_epoch`` (later ones are about to be redone)."""
        if not path.is_file():
            return cls(path, write=write)
        from skeletonmae.viz.curves import read_metrics_csv

        rows = [r for r in read_metrics_csv(path) if r["epoch"] < before_epoch]
        return cls(path, rows, write)

    def record(self, row: Mapping[str, float]) -> None:
        """Add the row of one epoch (replacing rows of that epoch and later) and rewrite the CSV."""
        epoch = row["epoch"]
        self.rows = [r for r in self.rows if r["epoch"] < epoch] + [dict(row)]
        if not self.write:
            return
        columns: list[str] = []
        for r in self.rows:
            columns += [c for c in r if c not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _format_cell(v) for k, v in r.items()} for r in self.rows)
        write_text_atomic(self.path, buffer.getvalue())


def _format_cell(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def open_tensorboard(run_dir: Path) -> Any | None:
    """A ``SummaryWriter`` under ``run_dir/tensorboard`` when tensorboard is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.debug("tensorboard not installed; metrics go to metrics.csv only")
        return None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))
