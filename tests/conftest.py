"""Shared fixtures: where the real sample data lives (``../shared/data`` beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
