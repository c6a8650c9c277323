"""A tiny prepared dataset written with the data layer's store API, and overrides for tiny runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_dataset

CLASS_NAMES = ("wave", "nod", "sway")
TRAIN_SAMPLES, TEST_SAMPLES = 24, 12


def _samples(count: int, seed: int) -> SkeletonSamples:
    """Kinect-v1 (20 joints, 1 person) sequences whose class sets the motion frequency."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(CLASS_NAMES)
    frames = 30
    time = np.linspace(0.0, 1.0, frames)
    data = np.zeros((count, 3, frames, 20, 1), dtype=np.float32)  # (N, C, T, V, M)
    for index, label in enumerate(labels):
        pose = rng.normal(size=(3, 1, 20)) * 0.3
        motion = np.sin(2 * np.pi * (label + 1) * time)[None, :, None] * 0.5
        data[index, ..., 0] = pose + motion + rng.normal(size=(3, frames, 20)) * 0.01
    lengths = np.full(count, frames, dtype=np.int64)
    names = tuple(f"tiny{seed}_{i:03d}" for i in range(count))
    return SkeletonSamples(data, labels, names, lengths, "nw_ucla20", CLASS_NAMES)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared dataset root with ``train`` (24 samples) and ``test`` (12) splits, 3 classes."""
    root = tmp_path_factory.mktemp("tiny") / "dataset"
    write_dataset(root, {"train": _samples(TRAIN_SAMPLES, 0), "test": _samples(TEST_SAMPLES, 1)})
    return root


def _tiny_overrides(root: Path, output_dir: Path, *extra: str) -> list[str]:
    return [
        f"data.root={root}",
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.batch_size=4",
        "data.num_workers=0",
        "training.epochs=2",
        "training.progress_bar=false",
        "training.device=cpu",
        f"output_dir={output_dir}",
        *extra,
    ]


@pytest.fixture(scope="session")
def tiny_overrides():
    """``f(root, output_dir, *extra) -> [KEY=VALUE]``: cpu-small model on 12-frame clips, batch 4
    (6 optimiser steps per epoch on the 24 training samples), 2 epochs, CPU."""
    return _tiny_overrides
