"""Shared fixtures: skeleton files generated in the real raw formats, one torch thread, seeded global
generators. The checks on the real sample files of ``../shared/data`` live in tests/real_data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch


@dataclass(frozen=True)
class SkeletonFiles:
    """Generated files in the real raw formats, for tests that need files rather than arrays."""

    nw_ucla: Path  # NW-UCLA all_sqe JSON: 72 sequences, 6 actions x 3 views x 4 subjects
    ntu: Path  # four NTU .skeleton files with one body each (like ../shared/data/ntu/skeleton)


@pytest.fixture(scope="session")
def skeleton_files(tmp_path_factory: pytest.TempPathFactory) -> SkeletonFiles:
    """NW-UCLA-style JSON (``a01_s01_e00_v03.json`` among them; views 1, 2 train, 3 tests) and NTU
    ``.skeleton`` files written by the data layer's generators, so no test needs private data."""
    from skeletonmae.data.synthetic import write_synthetic_ntu, write_synthetic_nw_ucla

    root = tmp_path_factory.mktemp("skeleton_files")
    write_synthetic_nw_ucla(root / "nw_ucla", 72, num_actions=6, seed=11)
    write_synthetic_ntu(
        root / "ntu",
        4,
        num_actions=4,
        seed=6,
        two_body_fraction=0.0,
        ghost_fraction=0.0,
        missing_frame_fraction=0.0,
    )
    return SkeletonFiles(root / "nw_ucla", root / "ntu")


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
