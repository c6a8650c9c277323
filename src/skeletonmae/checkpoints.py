"""Checkpoint and weights files: atomic writes, ``weights_only=True`` loads, released names.

A checkpoint is a plain dict of tensors, containers and primitives (so that
``torch.load(..., weights_only=True)`` can read it)::

    {"format_version": 1, "stage": str, "model": state_dict, "optimizer": state_dict,
     "scheduler": state_dict, "scaler": state_dict | None, "rng": the random state of rank 0,
     "rng_per_rank": [the random state of every rank] (skeletonmae.training.rng_state),
     "epoch": int, "step_in_epoch": int, "global_step": int, "best_metric": float | None,
     "config": plain dict, "extra": dict}

``epoch`` / ``step_in_epoch`` say where training resumes: the epoch in progress and the number of
optimiser steps already done in it (0 at an epoch boundary).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from skeletonmae.atomic import atomic_path
from skeletonmae.released import released_names, resolve_weights

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "model", "epoch", "config")
# What a weights file (safetensors) keeps of a checkpoint besides the model's tensors.
WEIGHTS_KEYS = (
    "format_version",
    "stage",
    "epoch",
    "global_step",
    "best_metric",
    "best_epoch",
    "config",
    "extra",
)
WEIGHTS_METADATA_KEY = "skeletonmae"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable or lacks a required entry."""


def save_checkpoint(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` with ``torch.save`` to a temp file in the same folder, then rename it."""
    with atomic_path(path) as temp:
        torch.save(dict(payload), temp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint on the CPU with ``weights_only=True`` (or a ``.safetensors`` weights file;
    a released model's name stands for its file); errors name the file and the fix."""
    path = resolve_weights(path)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: checkpoint not found; check the path or the run folder, or name a released "
            f"model ({', '.join(released_names()) or 'none shipped'})"
        )
    try:
        if path.suffix == ".safetensors":
            payload = _load_weights_file(path)
        else:
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as error:
        raise CheckpointError(
            f"{path}: cannot be read as a weights-only checkpoint ({error}); "
            "it is damaged or was not written by skeletonmae"
        ) from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(payload).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: not a skeletonmae training checkpoint (missing {', '.join(missing)})")
    if payload["format_version"] > CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format version {payload['format_version']} is newer than this skeletonmae "
            f"({CHECKPOINT_FORMAT_VERSION}); upgrade skeletonmae"
        )
    return payload


def save_weights_file(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write a checkpoint's model tensors as ``safetensors`` with its config and data facts
    (:data:`WEIGHTS_KEYS`) as JSON metadata, atomically: what a release ships (no optimiser state)."""
    from safetensors.torch import save_file

    tensors = {name: tensor.detach().contiguous().clone() for name, tensor in payload["model"].items()}
    facts = {key: payload[key] for key in WEIGHTS_KEYS if key in payload}
    with atomic_path(path) as temp:
        save_file(tensors, str(temp), metadata={WEIGHTS_METADATA_KEY: json.dumps(facts)})
    return Path(path)


def _load_weights_file(path: Path) -> dict[str, Any]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as handle:
        metadata = handle.metadata() or {}
        if WEIGHTS_METADATA_KEY not in metadata:
            raise ValueError(f"no {WEIGHTS_METADATA_KEY!r} metadata")
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    return {**json.loads(metadata[WEIGHTS_METADATA_KEY]), "model": tensors}
