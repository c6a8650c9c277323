"""Motion capture in BVH (Biovision Hierarchy): parse, forward kinematics, map a rig to a layout.

A file holds a joint hierarchy (``ROOT`` / ``JOINT`` with an ``OFFSET`` from the parent and its
``CHANNELS``; ``End Site`` leaves with an offset only) and a ``MOTION`` block: ``Frames: N``, ``Frame
Time: dt`` and one line of channel values per frame. A joint map names, for every joint of a layout,
the rig joint (or ``NAME/end``, the end site below ``NAME``) that stands for it. Our own parser names
the file and the line of every malformed part, which the BVH packages on PyPI do not.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.samples import SkeletonSamples

logger = logging.getLogger(__name__)

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254}
_AXES = {"X": 0, "Y": 1, "Z": 2}

BUILTIN_MAPS: dict[str, dict[str, str]] = {
    "bandai": {
        "hip_center": "Hips", "spine": "Spine", "shoulder_center": "Neck", "head": "Head/end",
        "shoulder_left": "UpperArm_L", "elbow_left": "LowerArm_L", "wrist_left": "Hand_L",
        "hand_left": "Hand_L/end", "shoulder_right": "UpperArm_R", "elbow_right": "LowerArm_R",
        "wrist_right": "Hand_R", "hand_right": "Hand_R/end", "hip_left": "UpperLeg_L",
        "knee_left": "LowerLeg_L", "ankle_left": "Foot_L", "foot_left": "Toes_L", "hip_right": "UpperLeg_R",
        "knee_right": "LowerLeg_R", "ankle_right": "Foot_R", "foot_right": "Toes_R",
    },
    "cmu": {
        "hip_center": "Hips", "spine": "Spine", "shoulder_center": "Neck", "head": "Head",
        "shoulder_left": "LeftArm", "elbow_left": "LeftForeArm", "wrist_left": "LeftHand",
        "hand_left": "LeftHand/end", "shoulder_right": "RightArm", "elbow_right": "RightForeArm",
        "wrist_right": "RightHand", "hand_right": "RightHand/end", "hip_left": "LeftUpLeg",
        "knee_left": "LeftLeg", "ankle_left": "LeftFoot", "foot_left": "LeftToeBase",
        "hip_right": "RightUpLeg", "knee_right": "RightLeg", "ankle_right": "RightFoot",
        "foot_right": "RightToeBase",
    },
}  # fmt: skip


@dataclass(frozen=True)
class BvhJoint:
    """One joint: ``parent`` index (-1 for the root), ``offset`` (3,), its channel names and the
    column of its first channel in a motion line; ``end`` is its end site's offset, if any."""

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    first_column: int
    end: np.ndarray | None


@dataclass(frozen=True)
class BvhMotion:
    """A parsed file: joints in hierarchy order, ``frame_time`` (s) and ``values`` (F, channels)."""

    joints: tuple[BvhJoint, ...]
    frame_time: float
    values: np.ndarray


@dataclass(frozen=True)
class JointMap:
    """For each joint of ``layout``, the rig joint (``NAME`` or ``NAME/end``) that stands for it."""

    layout: str
    joints: tuple[str, ...]


class _Lines:
    """The file's tokens, line by line, with the line number of each for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        self.number = 0

    def next(self, expected: str) -> list[str]:
        while self.number < len(self.lines):
            self.number += 1
            words = self.lines[self.number - 1].split()
            if words:
                return words
        raise self.at_end(f"file ends early; expected {expected}")

    def at_end(self, problem: str) -> DataFormatError:
        """An error at the line after the last one (where the missing text should be)."""
        return DataFormatError(self.path, f"{problem} (end of file)", line=len(self.lines) + 1)

    def fail(self, problem: str) -> DataFormatError:
        return DataFormatError(self.path, problem, line=self.number)


def _numbers(lines: _Lines, words: Sequence[str], what: str) -> np.ndarray:
    values = []
    for word in words:
        try:
            values.append(float(word))
        except ValueError:
            raise lines.fail(f"{word!r} is not a number ({what})") from None
    return np.array(values, dtype=np.float64)


def parse_bvh(path: str | Path) -> BvhMotion:
    """Read a BVH file; any malformed part raises :class:`DataFormatError` naming file and line."""
    lines = _Lines(Path(path))
    if lines.next("HIERARCHY") != ["HIERARCHY"]:
        raise lines.fail("expected HIERARCHY on the first line: not a BVH file")
    joints: list[BvhJoint] = []
    words = lines.next("ROOT")
    if words[0] != "ROOT" or len(words) != 2:
        raise lines.fail("expected 'ROOT name'")
    _parse_joint(lines, words[1], -1, joints, 0)
    if lines.next("MOTION") != ["MOTION"]:
        raise lines.fail("expected MOTION after the hierarchy")
    frames = _header_number(lines, "Frames:", int)
    frame_time = _header_number(lines, "Frame Time:", float)
    width = sum(len(joint.channels) for joint in joints)
    values = np.zeros((frames, width))
    header_line = lines.number
    for frame in range(frames):
        if lines.number >= len(lines.lines):
            raise lines.at_end(
                f"the motion block ends after {frame} of the {frames} frames that 'Frames:' declares; "
                "the file is truncated"
            )
        words = lines.next(f"frame {frame + 1}")
        if len(words) != width:
            raise lines.fail(
                f"{len(words)} values in frame {frame + 1}; the hierarchy declares {width} channels"
            )
        values[frame] = _numbers(lines, words, f"frame {frame + 1}")
    if frame_time <= 0:
        raise DataFormatError(lines.path, f"Frame Time {frame_time} must be positive", line=header_line)
    return BvhMotion(tuple(joints), frame_time, values)


def _header_number(lines: _Lines, label: str, kind: type) -> float:
    line = " ".join(lines.next(label))
    if not line.startswith(label):
        raise lines.fail(f"expected '{label} <number>'")
    try:
        return kind(line[len(label) :].strip())
    except ValueError:
        raise lines.fail(f"expected '{label} <number>', got {line!r}") from None


def _parse_joint(lines: _Lines, name: str, parent: int, joints: list[BvhJoint], column: int) -> int:
    """Parse the block of joint ``name`` (and its children); returns the next free channel column."""
    if lines.next("{") != ["{"]:
        raise lines.fail(f"expected '{{' opening joint {name}")
    offset = _offset(lines, f"joint {name}")
    words = lines.next("CHANNELS")
    if words[0] != "CHANNELS" or len(words) < 2 or not words[1].isdigit():
        raise lines.fail(f"expected 'CHANNELS n name...' for joint {name}")
    channels = tuple(words[2:])
    if len(channels) != int(words[1]) or any(
        not re.fullmatch(r"[XYZ](position|rotation)", c) for c in channels
    ):
        raise lines.fail(
            f"joint {name} declares {words[1]} channels but lists {len(channels)} ({' '.join(channels)}); "
            "each must be Xposition ... Zrotation"
        )
    index = len(joints)
    joints.append(BvhJoint(name, parent, offset, channels, column, None))
    column += len(channels)
    while True:
        words = lines.next("JOINT, End Site or '}'")
        if words == ["}"]:
            return column
        if words[0] == "JOINT" and len(words) == 2:
            column = _parse_joint(lines, words[1], index, joints, column)
        elif words[:2] == ["End", "Site"]:
            if lines.next("{") != ["{"]:
                raise lines.fail("expected '{' opening the End Site")
            joints[index] = dataclasses.replace(joints[index], end=_offset(lines, f"the end site of {name}"))
            if lines.next("}") != ["}"]:
                raise lines.fail("expected '}' closing the End Site")
        else:
            raise lines.fail(f"unexpected {' '.join(words)!r} inside joint {name}")


def _offset(lines: _Lines, what: str) -> np.ndarray:
    words = lines.next("OFFSET")
    if words[0] != "OFFSET" or len(words) != 4:
        raise lines.fail(f"expected 'OFFSET x y z' for {what}")
    return _numbers(lines, words[1:], f"offset of {what}")


def _axis_rotations(axis: int, degrees: np.ndarray) -> np.ndarray:
    """``(F, 3, 3)`` rotations by ``degrees`` ``(F,)`` about axis 0 (x), 1 (y) or 2 (z)."""
    angle = np.deg2rad(degrees)
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((len(angle), 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[:, axis, axis] = 1.0
    out[:, i, i], out[:, i, j], out[:, j, i], out[:, j, j] = c, -s, s, c
    return out


def forward_kinematics(motion: BvhMotion) -> dict[str, np.ndarray]:
    """World positions ``(F, 3)`` of every joint (by name) and end site (``NAME/end``). Per frame and
    in hierarchy order, a joint's local rotation is the product of its rotation channels in the order
    listed (degrees; ``Zrotation Xrotation Yrotation`` is ``Rz @ Rx @ Ry``), its local translation its
    position channels when it has them, else its offset; ``world = parent_world @ local``. An end
    site is placed by its offset in its joint's frame."""
    frames = motion.values.shape[0]
    rotations, translations, positions = [], [], {}
    for joint in motion.joints:
        local_r = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        local_t = np.broadcast_to(joint.offset, (frames, 3)).copy()
        for k, channel in enumerate(joint.channels):
            column = motion.values[:, joint.first_column + k]
            if channel.endswith("rotation"):
                local_r = local_r @ _axis_rotations(_AXES[channel[0]], column)
            else:
                local_t[:, _AXES[channel[0]]] = column
        if joint.parent < 0:
            world_r, world_t = local_r, local_t
        else:
            parent_r, parent_t = rotations[joint.parent], translations[joint.parent]
            world_r = parent_r @ local_r
            world_t = parent_t + np.einsum("fij,fj->fi", parent_r, local_t)
        rotations.append(world_r)
        translations.append(world_t)
        positions[joint.name] = world_t  # (F, 3)
        if joint.end is not None:
            positions[f"{joint.name}/end"] = world_t + np.einsum("fij,j->fi", world_r, joint.end)
    return positions


def load_joint_map(spec: str | Path) -> JointMap:
    """A built-in map's name, or a YAML file ``{layout: NAME, joints: {layout_joint: rig_joint}}``."""
    if str(spec) in BUILTIN_MAPS:
        table, layout = BUILTIN_MAPS[str(spec)], "nw_ucla20"
    else:
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(
                f"{spec}: joint map not found; name a built-in map ({', '.join(BUILTIN_MAPS)}) or a YAML "
                "file with 'layout' and 'joints' (docs/data.md, 'Motion capture (BVH)')"
            )
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if (
            not isinstance(data, Mapping)
            or not isinstance(data.get("joints"), Mapping)
            or "layout" not in data
        ):
            raise DataFormatError(path, "expected 'layout: NAME' and a 'joints:' mapping", key="joints")
        table, layout = {str(k): str(v) for k, v in data["joints"].items()}, str(data["layout"])
    names = get_layout(layout).joint_names
    missing = [name for name in names if name not in table]
    if missing:
        raise ValueError(f"joint map {spec}: no rig joint for {', '.join(missing)} of layout {layout}")
    return JointMap(layout, tuple(table[name] for name in names))


def _plain(name: str) -> str:
    """A rig joint name without a ``prefix:`` namespace (``mixamorig:LeftArm`` -> ``LeftArm``)."""
    return name.rsplit(":", 1)[-1]


def bvh_to_positions(
    path: str | Path, joint_map: JointMap, units: str = "cm", up_axis: str = "y", fps: float | None = None
) -> np.ndarray:
    """One file as ``(3, T, V)`` positions in metres, y up, resampled linearly to ``fps`` (None: as is)."""
    motion = parse_bvh(path)
    positions = {_plain(name): value for name, value in forward_kinematics(motion).items()}
    wanted = [_plain(name) for name in joint_map.joints]
    missing = sorted({name for name in wanted if name not in positions})
    if missing:
        raise DataFormatError(
            path, f"the rig has no joint {', '.join(missing)} named by the joint map; pass --joint-map"
        )
    joints = np.stack([positions[name] for name in wanted], axis=1) * UNITS[units]  # (F, V, 3)
    if up_axis == "z":  # z up -> y up, keeping a right-handed frame
        joints = np.stack([joints[..., 0], joints[..., 2], -joints[..., 1]], axis=-1)
    rate = 1.0 / motion.frame_time
    if fps is not None and len(joints) > 1 and abs(fps - rate) > 1e-3 * fps:  # 0.0333333 s is 30 fps
        times = np.arange(len(joints)) * motion.frame_time
        target = np.arange(int(np.floor(times[-1] * fps + 1e-3)) + 1) / fps
        flat = joints.reshape(len(joints), -1)
        joints = np.stack([np.interp(target, times, flat[:, k]) for k in range(flat.shape[1])], 1)
        joints = joints.reshape(len(target), -1, 3)
    return joints.transpose(2, 0, 1).astype(np.float32)


def read_bvh_folder(
    folder: str | Path,
    joint_map: str | Path = "bandai",
    units: str = "cm",
    up_axis: str = "y",
    fps: float | None = 30.0,
) -> tuple[dict[str, SkeletonSamples], list[tuple[str, str]]]:
    """Every ``.bvh`` under ``folder`` (sorted; or the one file ``folder``) as unlabelled ``train``
    samples ``(N, 3, T, V, 1)`` of the joint map's layout; files that cannot be read are skipped and
    returned as ``(path, reason)``."""
    if units not in UNITS or up_axis not in ("y", "z"):
        raise ValueError(f"units {units!r} / up axis {up_axis!r}: choose units from {list(UNITS)}, up y or z")
    mapping = load_joint_map(joint_map)
    files = [Path(folder)] if Path(folder).is_file() else sorted(Path(folder).rglob("*.bvh"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .bvh files found")
    clips, names, skipped = [], [], []
    for path in files:
        try:
            clips.append(bvh_to_positions(path, mapping, units, up_axis, fps)[..., None])  # (3, T, V, 1)
            names.append(path.stem)
        except (DataFormatError, OSError) as error:
            skipped.append((str(path), str(error)))
            logger.warning("skipped %s", error)
    if not clips:
        raise DataFormatError(
            Path(folder), f"none of the {len(files)} .bvh files could be read: {skipped[0][1]}"
        )
    shape = (3, len(mapping.joints), 1)
    samples = SkeletonSamples.from_sequences(clips, [-1] * len(clips), names, mapping.layout, (), shape=shape)
    return {"train": samples}, skipped
