"""Skeleton layouts as data: joint names, bones, centre joint and left/right pairs.

Joint indices are 0-based. ``bones`` are ``(child, parent)`` pairs forming a tree (every joint but
the root appears once as a child), so they serve both drawing and bone features (bone of ``v`` =
``x[v] - x[parent(v)]``, zero at the root). ``center_joint`` is the joint sequences are centred on.

- ``ntu25``: Kinect v2 as in NTU RGB+D; bones follow the Kinect v2 SDK's body drawing (thumb on the
  wrist, hand tip on the hand), rooted at the spine base.
- ``nw_ucla20``: Kinect v1 as in Northwestern-UCLA, rooted at the hip centre.
- ``coco17``: the COCO keypoints of 2D pose estimators (pyskl), rooted at the nose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SkeletonLayout:
    """One skeleton definition. ``parents`` is derived from ``bones`` (the root is its own parent)."""

    name: str
    num_joints: int
    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    center_joint: int
    left_right: tuple[tuple[int, int], ...]
    parents: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.joint_names) != self.num_joints:
            raise ValueError(
                f"layout {self.name}: joint_names has {len(self.joint_names)} entries, "
                f"num_joints is {self.num_joints}; give one name per joint"
            )
        if not 0 <= self.center_joint < self.num_joints:
            raise ValueError(f"layout {self.name}: center_joint {self.center_joint} out of range")
        parents = list(range(self.num_joints))
        children = set()
        for child, parent in self.bones:
            for joint in (child, parent):
                if not 0 <= joint < self.num_joints:
                    raise ValueError(f"layout {self.name}: bone ({child}, {parent}) out of range")
            if child in children:
                raise ValueError(f"layout {self.name}: joint {child} has two parents; bones form a tree")
            children.add(child)
            parents[child] = parent
        if len(children) != self.num_joints - 1:
            raise ValueError(
                f"layout {self.name}: {len(self.bones)} bones for {self.num_joints} joints; "
                "a tree needs num_joints - 1 (child, parent) pairs"
            )
        object.__setattr__(self, "parents", tuple(parents))

    @property
    def root_joint(self) -> int:
        """The joint without a parent."""
        return next(v for v, parent in enumerate(self.parents) if parent == v)

    def parent_index(self) -> np.ndarray:
        """``(V,)`` int64: the parent of every joint (the root maps to itself)."""
        return np.asarray(self.parents, dtype=np.int64)

    def flip_index(self) -> np.ndarray:
        """``(V,)`` int64 permutation that swaps every left/right pair (mirror augmentation)."""
        index = np.arange(self.num_joints)
        for left, right in self.left_right:
            index[left], index[right] = right, left
        return index


def _ntu25() -> SkeletonLayout:
    names = (
        "spine_base", "spine_mid", "neck", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
        "spine_shoulder", "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right",
    )  # fmt: skip
    bones = (
        (1, 0), (20, 1), (2, 20), (3, 2),
        (4, 20), (5, 4), (6, 5), (7, 6), (21, 7), (22, 6),
        (8, 20), (9, 8), (10, 9), (11, 10), (23, 11), (24, 10),
        (12, 0), (13, 12), (14, 13), (15, 14),
        (16, 0), (17, 16), (18, 17), (19, 18),
    )  # fmt: skip
    left_right = (
        (4, 8),
        (5, 9),
        (6, 10),
        (7, 11),
        (12, 16),
        (13, 17),
        (14, 18),
        (15, 19),
        (21, 23),
        (22, 24),
    )
    return SkeletonLayout("ntu25", 25, names, bones, center_joint=1, left_right=left_right)


def _nw_ucla20() -> SkeletonLayout:
    names = (
        "hip_center", "spine", "shoulder_center", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
    )  # fmt: skip
    bones = (
        (1, 0), (2, 1), (3, 2),
        (4, 2), (5, 4), (6, 5), (7, 6),
        (8, 2), (9, 8), (10, 9), (11, 10),
        (12, 0), (13, 12), (14, 13), (15, 14),
        (16, 0), (17, 16), (18, 17), (19, 18),
    )  # fmt: skip
    left_right = ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19))
    return SkeletonLayout("nw_ucla20", 20, names, bones, center_joint=1, left_right=left_right)


def _coco17() -> SkeletonLayout:
    names = (
        "nose", "eye_left", "eye_right", "ear_left", "ear_right",
        "shoulder_left", "shoulder_right", "elbow_left", "elbow_right", "wrist_left", "wrist_right",
        "hip_left", "hip_right", "knee_left", "knee_right", "ankle_left", "ankle_right",
    )  # fmt: skip
    bones = (
        (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6),
        (9, 7), (10, 8), (11, 5), (12, 6), (13, 11), (14, 12), (15, 13), (16, 14),
    )  # fmt: skip
    left_right = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
    return SkeletonLayout("coco17", 17, names, bones, center_joint=0, left_right=left_right)


LAYOUTS: dict[str, SkeletonLayout] = {layout.name: layout for layout in (_ntu25(), _nw_ucla20(), _coco17())}


def get_layout(name: str) -> SkeletonLayout:
    """The layout called ``name`` (``ntu25``, ``nw_ucla20``, ``coco17``; ``-`` and case are ignored)."""
    key = name.lower().replace("-", "_")
    if key not in LAYOUTS:
        raise ValueError(f"unknown skeleton layout {name!r}; choose one of {sorted(LAYOUTS)}")
    return LAYOUTS[key]


def layout_for_joint_count(num_joints: int) -> SkeletonLayout:
    """The default layout with ``num_joints`` joints (25 -> ntu25, 20 -> nw_ucla20, 17 -> coco17)."""
    for layout in LAYOUTS.values():
        if layout.num_joints == num_joints:
            return layout
    raise ValueError(
        f"no built-in layout has {num_joints} joints (known: 25, 20, 17); name the layout explicitly"
    )
