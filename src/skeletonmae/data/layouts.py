"""Skeleton layouts as data: joint names, ``(child, parent)`` bones forming a tree (for drawing and
bone features, ``x[v] - x[parent(v)]``, zero at the root), the centre joint and left/right pairs.

Built in: ``ntu25`` (Kinect v2), ``nw_ucla20`` (Kinect v1), ``coco17``, ``openpose18`` (COCO-17
plus a neck), ``mediapipe33`` and ``openpose_body25``. Any other skeleton is a YAML or JSON layout
file with the same fields (:func:`load_layout_file`, docs/data.md), registered for the process; its
definition travels in ``meta.json`` and checkpoints (:func:`register_layout_definition`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml


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
        _check_acyclic(self.name, parents)
        paired = [joint for pair in self.left_right for joint in pair]
        if any(not 0 <= j < self.num_joints for j in paired) or len(set(paired)) != len(paired):
            raise ValueError(
                f"layout {self.name}: left_right {list(self.left_right)} must pair distinct joints "
                f"in 0..{self.num_joints - 1}, each at most once"
            )
        object.__setattr__(self, "parents", tuple(parents))

    def parent_index(self) -> np.ndarray:
        """``(V,)`` int64: the parent of every joint (the root maps to itself)."""
        return np.asarray(self.parents, dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        """The layout file's fields (what :func:`layout_from_mapping` reads back)."""
        return {
            "name": self.name,
            "joint_names": list(self.joint_names),
            "bones": [list(bone) for bone in self.bones],
            "center_joint": self.center_joint,
            "left_right": [list(pair) for pair in self.left_right],
        }

    def flip_index(self) -> np.ndarray:
        """``(V,)`` int64 permutation that swaps every left/right pair (mirror augmentation)."""
        index = np.arange(self.num_joints)
        for left, right in self.left_right:
            index[left], index[right] = right, left
        return index


def _check_acyclic(name: str, parents: list[int]) -> None:
    """Every joint reaches the root by following parents (no cycle among the bones)."""
    for start in range(len(parents)):
        joint, steps = start, 0
        while parents[joint] != joint:
            joint, steps = parents[joint], steps + 1
            if steps > len(parents):
                raise ValueError(
                    f"layout {name}: the bones from joint {start} form a cycle; bones form a tree"
                )


LAYOUTS: dict[str, SkeletonLayout] = {}  # built in (first, in the order below), then registered


def _built_in(name: str, names: tuple, parents: tuple, center_joint: int, left_right: tuple) -> None:
    """Register a built-in layout from the parent of every joint (the root is its own parent)."""
    bones = tuple((child, parent) for child, parent in enumerate(parents) if child != parent)
    LAYOUTS[name] = SkeletonLayout(name, len(names), names, bones, center_joint, left_right)


_built_in(
    "ntu25",
    (
        "spine_base", "spine_mid", "neck", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
        "spine_shoulder", "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right",
    ),
    (0, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 6, 11, 10),
    1,
    ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24)),
)  # fmt: skip
_built_in(
    "nw_ucla20",
    (
        "hip_center", "spine", "shoulder_center", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
    ),
    (0, 0, 1, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18),
    1,
    ((4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19)),
)  # fmt: skip
_built_in(
    "coco17",
    (
        "nose", "eye_left", "eye_right", "ear_left", "ear_right",
        "shoulder_left", "shoulder_right", "elbow_left", "elbow_right", "wrist_left", "wrist_right",
        "hip_left", "hip_right", "knee_left", "knee_right", "ankle_left", "ankle_right",
    ),
    (0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14),
    0,
    ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
)  # fmt: skip
_built_in(
    "openpose18",
    (
        "nose", "neck", "shoulder_right", "elbow_right", "wrist_right",
        "shoulder_left", "elbow_left", "wrist_left", "hip_right", "knee_right", "ankle_right",
        "hip_left", "knee_left", "ankle_left", "eye_right", "eye_left", "ear_right", "ear_left",
    ),
    (1, 1, 1, 2, 3, 1, 5, 6, 2, 8, 9, 5, 11, 12, 0, 0, 14, 15),
    1,
    ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17)),
)  # fmt: skip
_built_in(
    "mediapipe33",
    (
        "nose", "eye_inner_left", "eye_left", "eye_outer_left", "eye_inner_right", "eye_right",
        "eye_outer_right", "ear_left", "ear_right", "mouth_left", "mouth_right",
        "shoulder_left", "shoulder_right", "elbow_left", "elbow_right", "wrist_left", "wrist_right",
        "pinky_left", "pinky_right", "index_left", "index_right", "thumb_left", "thumb_right",
        "hip_left", "hip_right", "knee_left", "knee_right", "ankle_left", "ankle_right",
        "heel_left", "heel_right", "foot_index_left", "foot_index_right",
    ),
    (
        0, 0, 1, 2, 0, 4, 5, 3, 6, 0, 0,  # face
        0, 0, 11, 12, 13, 14, 15, 16, 15, 16, 15, 16,  # arms and hands
        11, 12, 23, 24, 25, 26, 27, 28, 27, 28,  # legs and feet
    ),
    0,
    ((1, 4), (2, 5), (3, 6)) + tuple((left, left + 1) for left in range(7, 32, 2)),
)  # fmt: skip
_built_in(
    "openpose_body25",
    (
        "nose", "neck", "shoulder_right", "elbow_right", "wrist_right",
        "shoulder_left", "elbow_left", "wrist_left", "hip_mid", "hip_right", "knee_right",
        "ankle_right", "hip_left", "knee_left", "ankle_left", "eye_right", "eye_left", "ear_right",
        "ear_left", "big_toe_left", "small_toe_left", "heel_left", "big_toe_right",
        "small_toe_right", "heel_right",
    ),
    (1, 1, 1, 2, 3, 1, 5, 6, 1, 8, 9, 10, 8, 12, 13, 0, 0, 15, 16, 14, 19, 14, 11, 22, 11),
    8,
    ((2, 5), (3, 6), (4, 7), (9, 12), (10, 13), (11, 14), (15, 16), (17, 18), (22, 19), (23, 20), (24, 21)),
)  # fmt: skip
BUILT_IN: tuple[str, ...] = tuple(LAYOUTS)  # a joint count picks the first (25 joints: ntu25)


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def get_layout(name: str) -> SkeletonLayout:
    """The layout called ``name`` (built in or registered; ``-`` and case are ignored)."""
    key = _key(name)
    if key not in LAYOUTS:
        raise ValueError(
            f"unknown skeleton layout {name!r}; choose one of {sorted(LAYOUTS)} or declare your "
            "own in a layout file (skeletonmae prepare convert --layout my_layout.yaml)"
        )
    return LAYOUTS[key]


def layout_for_joint_count(num_joints: int) -> SkeletonLayout:
    """The first built-in layout with ``num_joints`` joints."""
    for name in BUILT_IN:
        if LAYOUTS[name].num_joints == num_joints:
            return LAYOUTS[name]
    counts = sorted(LAYOUTS[name].num_joints for name in BUILT_IN)
    raise ValueError(
        f"no built-in layout has {num_joints} joints (known: {counts}); name the layout or "
        "declare it in a layout file (--layout my_layout.yaml)"
    )


LAYOUT_FIELDS = ("name", "joint_names", "bones", "center_joint", "left_right")


def layout_from_mapping(data: Any, source: str = "layout") -> SkeletonLayout:
    """A layout from a layout file's mapping; errors name ``source`` and the field."""
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{source}: expected a mapping with keys {list(LAYOUT_FIELDS)}, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(LAYOUT_FIELDS))
    missing = [key for key in LAYOUT_FIELDS if key not in data and key != "left_right"]
    if unknown or missing:
        problem = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
        raise ValueError(
            f"{source}: {problem}; a layout file has {list(LAYOUT_FIELDS)} (left_right optional)"
        )
    name, names = data["name"], data["joint_names"]
    if not isinstance(name, str) or not name or _key(name) != name:
        raise ValueError(
            f"{source}: field 'name': got {name!r}; use a lower-case name without '-', e.g. my15"
        )
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{source}: field 'joint_names': expected a list of strings")
    try:
        bones = tuple(_pair(bone) for bone in data["bones"])
        pairs = tuple(_pair(pair) for pair in data.get("left_right") or ())
    except (TypeError, ValueError):
        raise ValueError(
            f"{source}: fields 'bones' / 'left_right': expected lists of [int, int] pairs"
        ) from None
    center = data["center_joint"]
    if not isinstance(center, int) or isinstance(center, bool):
        raise ValueError(f"{source}: field 'center_joint': expected a joint index, got {center!r}")
    try:
        return SkeletonLayout(name, len(names), tuple(names), bones, center, pairs)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def _pair(value: Any) -> tuple[int, int]:
    if len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(value)
    return int(value[0]), int(value[1])


def load_layout_file(path: str | Path) -> SkeletonLayout:
    """Read, check and register a YAML / JSON layout file; returns the layout."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the layout file ({error})") from None
    return register_layout(layout_from_mapping(data, str(path)))


def register_layout(layout: SkeletonLayout) -> SkeletonLayout:
    """Make ``layout`` known to :func:`get_layout`; a name taken by another definition is refused."""
    existing = LAYOUTS.get(layout.name)
    if existing is not None and existing != layout:
        raise ValueError(
            f"layout {layout.name!r} is already defined differently"
            + (" (a built-in layout)" if layout.name in BUILT_IN else "")
            + "; give your layout file another name"
        )
    LAYOUTS[layout.name] = layout
    return layout


def layout_definition(name: str) -> dict[str, Any] | None:
    """What a dataset or checkpoint stores to find ``name`` again: None when built in."""
    return None if _key(name) in BUILT_IN else get_layout(name).to_dict()


def register_layout_definition(definition: Any, source: str) -> None:
    """Register a stored definition (from ``meta.json`` or a checkpoint) if there is one."""
    if definition is not None:
        register_layout(layout_from_mapping(definition, source))
