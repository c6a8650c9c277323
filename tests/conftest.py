"""Shared fixtures: where the real sample data lives (``../shared/data`` beside the checkout)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    env = os.environ.get("SKELETONMAE_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real sample files; skips the test with the reason when they are absent."""
    root = _shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"real sample data not found at {root} (set SKELETONMAE_SHARED_DATA)")
    return root


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Every test uses tiny tensors: intra-op threads only add OpenMP spin-waits, which made tests
    several times slower on a busy 2-core machine. Restored at the end of the session."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def same_global_random_state():
    """Every test starts from the same seeded global generators (Python, numpy, torch), so inputs
    drawn without a generator do not change with the order tests run in, and leaves the generators
    as it found them, whatever the test seeded."""
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    torch.set_rng_state(saved[2])
