"""The random state of a process, saved in checkpoints so that a resumed run continues every
random stream where it stopped (python, numpy, torch, CUDA and named generators)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from skeletonmae.checkpoints import CheckpointError


def capture_rng_state(extra_generators: Mapping[str, torch.Generator] | None = None) -> dict:
    """The python / numpy / torch (and CUDA) RNG states as weights-only-loadable data."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "generators": {name: g.get_state() for name, g in (extra_generators or {}).items()},
    }


def restore_rng_state(
    state: Mapping[str, Any], extra_generators: Mapping[str, torch.Generator] | None = None
) -> None:
    """Inverse of :func:`capture_rng_state` (generators are restored in place)."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    saved_numpy = {**state["numpy"], "keys": state["numpy"]["keys"].numpy().astype(np.uint32)}
    np.random.set_state(tuple(saved_numpy[k] for k in ("kind", "keys", "position", "has_gauss", "cached")))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    saved = state.get("generators", {})
    for name, generator in (extra_generators or {}).items():
        if name not in saved:
            raise CheckpointError(f"checkpoint RNG state has no generator {name!r}")
        generator.set_state(saved[name])
