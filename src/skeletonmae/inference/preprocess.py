"""Check sequences against a checkpoint and turn them into model input with the *test* transform.

The transform is :meth:`skeletonmae.data.dataset.SkeletonDataset.get_batch` with ``train=False`` and
the checkpoint's :class:`~skeletonmae.run_config.TransformConfig`: the code and settings that scored
the validation split in training, so training and prediction cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from skeletonmae.data.channels import check_channels
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.layouts import SkeletonLayout
from skeletonmae.data.normalize import Normalization
from skeletonmae.data.store import SplitArrays
from skeletonmae.inference.inputs import SkeletonInput
from skeletonmae.run_config import ModelConfig, TransformConfig


class InvalidInputError(ValueError):
    """A sequence does not fit the checkpoint (joints, persons, frames, values)."""


def _fail(item: SkeletonInput, problem: str) -> InvalidInputError:
    return InvalidInputError(f"{item.source}: {item.name}: {problem}")


def check_sequence(
    item: SkeletonInput, model: ModelConfig, layout: SkeletonLayout, min_frames: int = 2
) -> np.ndarray:
    """``item.joints (C, T, V, M_in)`` -> float32 ``(C, T, V, M)`` with the model's person count
    (missing persons are zero padding, all-zero extra ones are dropped); raises
    :class:`InvalidInputError`, naming the input, what was expected and the fix."""
    joints = np.asarray(item.joints)
    if joints.ndim != 4:
        raise _fail(
            item,
            f"expected a (C, T, V, M) sequence, got shape {joints.shape}; pass one "
            "sample as (coordinates, frames, joints, persons)",
        )
    channels, frames, num_joints, persons = joints.shape
    if num_joints != model.num_joints:
        source_layout = f" ({item.layout})" if item.layout else ""
        raise _fail(
            item,
            f"has {num_joints} joints{source_layout} but the checkpoint's layout "
            f"{layout.name} has {model.num_joints}; use a model trained on this "
            "skeleton layout, or map the joints to it first",
        )
    if channels != model.in_channels:
        raise _fail(
            item,
            f"has {channels} coordinates per joint, the checkpoint expects "
            f"{model.in_channels}; pass the channels its training data held (e.g. x, y, z)",
        )
    if not np.isfinite(joints).all():
        frame = int(np.argwhere(~np.isfinite(joints))[0][1])
        raise _fail(item, f"holds NaN or inf (first in frame {frame}); fix or drop those frames")
    if frames < min_frames:
        raise _fail(
            item,
            f"has {frames} valid frame(s), at least {min_frames} are needed; "
            "pass a longer sequence (or lower min_frames, --min-frames)",
        )
    present = np.flatnonzero((joints != 0).any(axis=(0, 1, 2)))
    if present.size and present[-1] >= model.num_persons:
        raise _fail(
            item,
            f"has {present.size} persons with data (slots {present.tolist()}), the "
            f"checkpoint takes at most {model.num_persons}; keep the main actors only",
        )
    out = np.zeros((channels, frames, num_joints, model.num_persons), dtype=np.float32)
    kept = min(persons, model.num_persons)
    out[..., :kept] = joints[..., :kept]
    return out


def apply_test_transform(
    sequences: Sequence[np.ndarray],
    transform: TransformConfig,
    layout: SkeletonLayout,
    channels: str = "",
    normalization: Normalization = Normalization(),
) -> torch.Tensor:
    """Checked ``(C, T_i, V, M)`` sequences -> ``(N, C, num_frames, V, M)`` float32 model input:
    the normalisation the training data was prepared with, then the run's test transform."""
    if not sequences:
        raise ValueError("no sequence to transform")
    count = len(sequences)
    lengths = np.array([s.shape[1] for s in sequences], dtype=np.int64)
    num_channels, _, joints, persons = sequences[0].shape
    padded = np.zeros((count, num_channels, int(lengths.max()), joints, persons), np.float32)
    for row, sequence in enumerate(sequences):
        padded[row, :, : sequence.shape[1]] = sequence  # (C, T_i, V, M) into (C, T_max, V, M)
    padded = normalization.apply(padded, lengths, layout.name, channels or check_channels("", num_channels))
    meta = {"layout": layout.name, "channels": channels, "num_classes": 0, "class_names": []}
    names = tuple(f"input_{i}" for i in range(count))
    split = SplitArrays(padded, np.zeros(count, np.int64), lengths, names, meta, Path("<inputs>"))
    x, _, _ = SkeletonDataset(split, transform, train=False).get_batch(np.arange(count))
    return x  # (N, C, num_frames, V, M)
