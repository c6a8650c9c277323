"""Tiny prepared datasets and sweep specs for the experiments tests (seconds per run on a CPU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from skeletonmae.data.classes import NW_UCLA_CLASS_NAMES
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_dataset

FRAMES = 24  # stored frames per sample; the model sees TRANSFORM_FRAMES after resizing
TRANSFORM_FRAMES = 12  # two tuples of 6: frame ratio 0.5 keeps one tuple


def _samples(count: int, seed: int, prefix: str) -> SkeletonSamples:
    """Three classes of smooth 20-joint motions (1, 2 or 3 sine periods) plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 3
    pose = rng.normal(scale=0.3, size=(3, 1, 20, 1)).astype(np.float32)
    t = np.linspace(0, 2 * np.pi, FRAMES, dtype=np.float32)[None, :, None, None]
    data = np.empty((count, 3, FRAMES, 20, 1), np.float32)
    for i, label in enumerate(labels):
        noise = rng.normal(scale=0.02, size=(3, FRAMES, 20, 1))
        data[i] = pose + 0.2 * np.sin((label + 1) * t) + noise
    names = tuple(f"{prefix}{i:03d}" for i in range(count))
    return SkeletonSamples(
        data,
        labels.astype(np.int64),
        names,
        np.full(count, FRAMES, np.int64),
        "nw_ucla20",
        NW_UCLA_CLASS_NAMES[:3],
    )


def write_tiny_dataset(root: Path) -> Path:
    """16 training and 8 test samples, layout nw_ucla20, no benchmark name."""
    return write_dataset(root, {"train": _samples(16, 0, "train"), "test": _samples(8, 1, "test")})


def stage_settings(epochs: int = 1) -> dict[str, Any]:
    return {
        "model": {"preset": "cpu-small"},
        "data": {
            "batch_size": 4,
            "num_workers": 0,
            "transform": {"num_frames": TRANSFORM_FRAMES, "min_crop_frames": 6},
        },
        "training": {"epochs": epochs, "progress_bar": False, "device": "cpu"},
    }


def tiny_spec(data_root: Path, output_root: Path, **fields: Any) -> dict[str, Any]:
    """A 2 x 2 sweep (strategy x joint ratio) of one-epoch runs; ``fields`` replace keys."""
    spec = {
        "name": "tiny",
        "title": "tiny 2 x 2",
        "dataset": str(data_root),
        "output_root": str(output_root),
        "pretrain": {"settings": stage_settings()},
        "finetune": {"settings": stage_settings()},
        "axes": {"mask.strategy": ["fixed", "random"], "mask.joint_ratio": [0.4, 0.5]},
    }
    spec.update(fields)
    return spec


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(f"# skeletonmae sweep {path}\n" + yaml.safe_dump(spec, sort_keys=False))
    return path
