"""Input checks and person packing for ``(N, C, T, V, M)`` batches.

Most NTU samples have one body and a zero-padded second one. Packing folds only the *present*
persons (any nonzero coordinate) into the batch, so padding costs no compute; a sample with none
keeps its first person, so every sample has at least one row.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from skeletonmae.run_config import ModelConfig


def check_input(x: torch.Tensor, config: ModelConfig, name: str = "x") -> None:
    """Raise ValueError unless ``x`` is a floating ``(N, C, T, V, M)`` batch matching ``config``."""
    expected = (config.in_channels, config.num_frames, config.num_joints, config.num_persons)
    layout = "(N, C, T, V, M) = (batch, coordinates, frames, joints, persons)"
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{name}: expected a 5-D tensor {layout} = (N, {', '.join(map(str, expected))}), "
            f"got {shape}; reshape the batch to that layout"
        )
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point tensor, got {x.dtype}; call .float()")
    fields = ("in_channels", "num_frames", "num_joints", "num_persons")
    for axis, (field, want) in enumerate(zip(fields, expected), start=1):
        if x.shape[axis] != want:
            raise ValueError(
                f"{name}: shape {tuple(x.shape)} has {x.shape[axis]} on axis {axis} of {layout}, but the "
                f"model config says {field}={want}; set {field}={x.shape[axis]} in the model config "
                "(or resample / pad the data to match)"
            )


def present_persons(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, V, M) -> (N, M)`` bool: the person has a nonzero coordinate. A sample with no
    present person reports its first person as present."""
    present = x.ne(0).flatten(1, 3).any(dim=1)  # (N, M)
    present[:, 0] |= ~present.any(dim=1)
    return present


class PackedPersons(NamedTuple):
    """Present persons folded into the batch: ``data (P, C, T, V)`` sample-major, the sample and
    person slot of each row (``(P,)`` int64), and the batch's ``N`` and ``M``."""

    data: torch.Tensor
    sample_index: torch.Tensor
    person_index: torch.Tensor
    num_samples: int
    num_persons: int


def pack_persons(x: torch.Tensor, present: torch.Tensor | None = None) -> PackedPersons:
    """``(N, C, T, V, M)`` -> :class:`PackedPersons` of the persons marked in ``present (N, M)``
    bool (default :func:`present_persons`; all true: every person, the faithful STTFormer's cost)."""
    present = present_persons(x) if present is None else present
    sample_index, person_index = present.nonzero(as_tuple=True)  # (P,), sample-major
    data = x.permute(0, 4, 1, 2, 3)[sample_index, person_index]  # (P, C, T, V)
    return PackedPersons(data, sample_index, person_index, x.shape[0], x.shape[4])


def unpack_persons(rows: torch.Tensor, packed: PackedPersons) -> torch.Tensor:
    """``rows (P, C, T, V)`` -> ``(N, C, T, V, M)`` with zeros for the persons not packed."""
    p, c, t, v = rows.shape
    out = rows.new_zeros(packed.num_samples, packed.num_persons, c, t, v)
    out[packed.sample_index, packed.person_index] = rows
    return out.permute(0, 2, 3, 4, 1)


def mean_over_persons(features: torch.Tensor, packed: PackedPersons) -> torch.Tensor:
    """``features (P, D)`` -> ``(N, D)``: mean over each sample's packed persons."""
    total = features.new_zeros(packed.num_samples, features.shape[1])
    total = total.index_add(0, packed.sample_index, features)
    count = torch.bincount(packed.sample_index, minlength=packed.num_samples)
    return total / count.clamp(min=1).unsqueeze(1).to(features.dtype)
