"""The three skeleton views of CrosSCLR on ``(N, C, T, V, M)`` batches: joint (coordinates), motion
``x[t + 1] - x[t]`` (zero at the last frame) and bone ``x[v] - x[parent(v)]`` (zero at the root;
``SkeletonLayout.parents``, so it is the data layer's bone stream)."""

from __future__ import annotations

import torch

from skeletonmae.models.targets import frame_differences


def bone_view(x: torch.Tensor, parents: torch.Tensor) -> torch.Tensor:
    """Bone vectors ``x[v] - x[parent(v)]``. ``(N, C, T, V, M)`` and ``(V,)`` parents -> ``(N, C,
    T, V, M)``."""
    if parents.shape != (x.shape[3],):
        raise ValueError(
            f"bone_view: {tuple(parents.shape)} parents for {x.shape[3]} joints; "
            "pass the layout's parents (SkeletonLayout.parents)"
        )
    return x - x[:, :, :, parents.to(x.device)]


def make_view(x: torch.Tensor, view: str, parents: torch.Tensor) -> torch.Tensor:
    """The named view (``joint``, ``motion`` or ``bone``) of a joint-coordinate batch."""
    if view == "joint":
        return x
    if view == "motion":
        return frame_differences(x)  # (N, C, T, V, M), zero at the last frame
    if view == "bone":
        return bone_view(x, parents)
    raise ValueError(f"unknown view {view!r}; expected joint, motion or bone")
