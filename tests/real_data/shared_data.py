"""Where the real sample files live (``../shared/data`` beside the checkout, or
``$SKELETONMAE_SHARED_DATA``), and the one skip every module of tests/real_data takes without them.

The files are research datasets that may not be redistributed, so a fresh clone has none: each module
here then skips as a whole, once, with a reason that names the missing folder and how to provide it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "SKELETONMAE_SHARED_DATA"
DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the checkout


def shared_data_dir() -> Path:
    """``$SKELETONMAE_SHARED_DATA`` when set, else ``../shared/data`` beside the checkout."""
    env = os.environ.get(ENV)
    return Path(env) if env else DEFAULT


def require_shared_data(what: str, *paths: str) -> Path:
    """The data root, when every one of ``paths`` (relative to it) exists; otherwise skips the calling
    test module at import, naming ``what`` is missing, where it was looked for, and the fix."""
    __tracebackhide__ = True  # pytest reports the skip at the calling module's line
    root = shared_data_dir()
    missing = [str(root / path) for path in paths if not (root / path).exists()]
    if missing:
        pytest.skip(
            f"{what} not found ({', '.join(missing)}): place the real data at {DEFAULT} or set "
            f"{ENV} to the folder that holds it (ntu/, nw_ucla/, pyskl/, corpus/); see docs/testing.md",
            allow_module_level=True,
        )
    return root
