"""The three skeleton views of CrosSCLR: joint (coordinates), motion and bone, on batches.

``motion[t] = x[t + 1] - x[t]`` (the last frame is zero); ``bone[v] = x[v] - x[parent(v)]`` with
the centre joint's bone zero. Parents are derived from the layout's bone list by a breadth-first
walk from the centre joint, so the direction in which bones are listed does not matter.
All functions take and return ``(N, C, T, V, M)``.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

import torch

Bones = Sequence[tuple[int, int]]


def motion_view(x: torch.Tensor) -> torch.Tensor:
    """Frame differences ``x[t+1] - x[t]``, zero at the last frame. ``(N, C, T, V, M)`` -> same."""
    motion = torch.zeros_like(x)
    motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return motion


def joint_parents(num_joints: int, bones: Bones, center_joint: int) -> torch.Tensor:
    """``(V,)`` parent of each joint on the skeleton tree rooted at ``center_joint`` (the root is its own parent).

    Raises ValueError if a bone names a joint outside ``[0, V)`` or a joint is not connected to the centre.
    """
    neighbours: list[list[int]] = [[] for _ in range(num_joints)]
    for a, b in bones:
        if not (0 <= a < num_joints and 0 <= b < num_joints):
            raise ValueError(f"bone ({a}, {b}): joints must be in [0, {num_joints}); check the layout's bones")
        neighbours[a].append(b)
        neighbours[b].append(a)
    parents = [-1] * num_joints
    parents[center_joint] = center_joint
    queue = deque([center_joint])
    while queue:
        joint = queue.popleft()
        for other in neighbours[joint]:
            if parents[other] == -1:
                parents[other] = joint
                queue.append(other)
    unreachable = [j for j, p in enumerate(parents) if p == -1]
    if unreachable:
        raise ValueError(f"joints {unreachable} are not connected to the centre joint {center_joint} by the "
                         "layout's bones; a bone view needs a connected skeleton")
    return torch.tensor(parents, dtype=torch.long)


def bone_view(x: torch.Tensor, parents: torch.Tensor) -> torch.Tensor:
    """Bone vectors ``x[v] - x[parent(v)]``. ``(N, C, T, V, M)`` and ``(V,)`` parents -> ``(N, C, T, V, M)``."""
    if parents.shape != (x.shape[3],):
        raise ValueError(f"bone_view: {tuple(parents.shape)} parents for {x.shape[3]} joints; "
                         "build them with joint_parents for this layout")
    return x - x[:, :, :, parents.to(x.device)]


def make_view(x: torch.Tensor, view: str, parents: torch.Tensor) -> torch.Tensor:
    """The named view (``joint``, ``motion`` or ``bone``) of a joint-coordinate batch."""
    if view == "joint":
        return x
    if view == "motion":
        return motion_view(x)
    if view == "bone":
        return bone_view(x, parents)
    raise ValueError(f"unknown view {view!r}; expected joint, motion or bone")
