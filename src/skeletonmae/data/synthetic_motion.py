"""A kinematic 25-joint (Kinect v2) stick figure doing distinguishable actions (test data only): each
action sets joint-angle curves over a rest pose. Body frame: x = the person's left, y = up, z = forward;
:func:`pose_sequence` returns ``(T, 25, 3)`` with the feet on the floor (y = 0) unless jumping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Angles = dict[str, np.ndarray]


@dataclass(frozen=True)
class BodyStyle:
    """How one performer looks and moves."""

    scale: float = 1.0  # 1.0 = a 1.75 m adult
    speed: float = 1.0  # cycles are faster above 1
    amplitude: float = 1.0
    phase: float = 0.0  # radians


def _zeros(t: np.ndarray) -> Angles:
    names = ("pitch", "nod", "jump", "sway", "walk",
             "abd_l", "abd_r", "flex_l", "flex_r", "elbow_l", "elbow_r",
             "hip_l", "hip_r", "knee_l", "knee_r")  # fmt: skip
    angles = {name: np.zeros_like(t) for name in names}
    angles["elbow_l"] = angles["elbow_r"] = np.full_like(t, 0.15)
    angles["abd_l"] = angles["abd_r"] = np.full_like(t, 0.12)
    return angles


def _wave(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    a["abd_r"] = np.full_like(t, 2.2)
    a["elbow_r"] = 0.9 + 0.6 * style.amplitude * np.sin(2 * np.pi * 3 * style.speed * t + style.phase)


def _sit_down(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    progress = np.clip((t - 0.2) / 0.5, 0, 1)
    bend = 0.5 - 0.5 * np.cos(np.pi * progress)  # smooth 0 -> 1
    a["hip_l"] = a["hip_r"] = 1.5 * bend
    a["knee_l"] = a["knee_r"] = 1.55 * bend
    a["pitch"] = 0.35 * bend
    a["flex_l"] = a["flex_r"] = 0.4 * bend


def _jump(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    wave = np.sin(2 * np.pi * 2 * style.speed * t + style.phase)
    a["jump"] = 0.25 * style.amplitude * np.clip(wave, 0, None)
    crouch = np.clip(-wave, 0, None)
    a["hip_l"] = a["hip_r"] = 0.7 * crouch
    a["knee_l"] = a["knee_r"] = 1.1 * crouch
    a["abd_l"] = a["abd_r"] = 0.3 + 1.2 * np.clip(wave, 0, None)


def _kick(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    swing = np.clip(np.sin(2 * np.pi * 1.5 * style.speed * t + style.phase), 0, None)
    a["hip_r"] = 1.3 * style.amplitude * swing
    a["knee_r"] = 0.9 * (1 - swing) * (swing > 0.05)
    a["abd_l"] = a["abd_r"] = 0.5 + 0.2 * swing


def _clap(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    beat = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * style.speed * t + style.phase)
    a["flex_l"] = a["flex_r"] = np.full_like(t, 1.2)
    a["abd_l"] = a["abd_r"] = -0.25 + 0.6 * style.amplitude * beat
    a["elbow_l"] = a["elbow_r"] = np.full_like(t, 0.8)


def _bow(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    a["pitch"] = 0.8 * style.amplitude * np.sin(np.pi * np.clip(t * style.speed, 0, 1)) ** 2
    a["nod"] = 0.4 * a["pitch"]


def _cheer(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    lift = 2.6 + 0.35 * style.amplitude * np.sin(2 * np.pi * 2.5 * style.speed * t + style.phase)
    a["abd_l"] = a["abd_r"] = lift
    a["elbow_l"] = a["elbow_r"] = 0.2 + 0.3 * np.cos(2 * np.pi * 2.5 * style.speed * t)


def _hop(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    a["hip_l"] = np.full_like(t, 0.4)
    a["knee_l"] = np.full_like(t, 1.4)
    a["jump"] = 0.12 * style.amplitude * np.abs(np.sin(2 * np.pi * 3 * style.speed * t + style.phase))
    a["abd_l"] = a["abd_r"] = np.full_like(t, 0.6)


def _stagger(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    a["sway"] = 0.35 * style.amplitude * np.sin(2 * np.pi * 1.2 * style.speed * t + style.phase)
    a["walk"] = 0.6 * (t - 0.5)
    step = np.sin(2 * np.pi * 2 * style.speed * t)
    a["hip_l"], a["hip_r"] = 0.4 * np.clip(step, 0, None), 0.4 * np.clip(-step, 0, None)
    a["knee_l"], a["knee_r"] = 0.6 * np.clip(step, 0, None), 0.6 * np.clip(-step, 0, None)
    a["abd_l"] = a["abd_r"] = 0.4 + 0.3 * np.abs(a["sway"])


def _pick_up(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    reach = np.sin(np.pi * np.clip(t * style.speed, 0, 1))
    a["pitch"] = 1.0 * reach
    a["hip_l"] = a["hip_r"] = 0.6 * reach
    a["knee_l"] = a["knee_r"] = 0.9 * reach
    a["flex_r"] = -0.7 * reach  # the trunk bows by 1.0: the arm hangs towards the floor


def _throw(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    cycle = (t * 1.5 * style.speed + style.phase / (2 * np.pi)) % 1.0
    windup, release = cycle < 0.6, cycle >= 0.6
    a["flex_r"] = np.where(windup, -0.6 - 1.6 * cycle, -1.6 + 4.5 * (cycle - 0.6)) * style.amplitude
    a["elbow_r"] = np.where(release, 0.2, 1.4)
    a["pitch"] = 0.3 * release * (cycle - 0.6) / 0.4


def _salute(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    up = np.clip(np.sin(np.pi * np.clip(t * style.speed, 0, 1)) * 1.6, 0, 1)
    a["abd_r"] = 1.4 * up
    a["flex_r"] = 0.6 * up
    a["elbow_r"] = 0.15 + 2.3 * up


# (NTU action id, name, motion) - NTU-60 single-person classes.
ACTIONS: tuple[tuple[int, str, Callable[[Angles, np.ndarray, BodyStyle], None]], ...] = (
    (23, "hand waving", _wave), (8, "sitting down", _sit_down), (27, "jump up", _jump),
    (24, "kicking something", _kick), (10, "clapping", _clap), (35, "nod head/bow", _bow),
    (22, "cheer up", _cheer), (26, "hopping (one foot jumping)", _hop), (42, "staggering", _stagger),
    (6, "pickup", _pick_up), (7, "throw", _throw), (38, "salute", _salute),
)  # fmt: skip


def _forward(vectors: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate ``(T, 3)`` vectors about the x axis so that 'down' (0, -1, 0) swings towards +z by ``angle``."""
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    return np.stack([x, y * c + z * s, -y * s + z * c], axis=1)


def _limb_direction(abduction: np.ndarray, flexion: np.ndarray, side: float) -> np.ndarray:
    """``(T, 3)`` unit direction of a limb hanging down, raised sideways by ``abduction``, then
    forward by ``flexion`` (``side`` +1 = left, -1 = right)."""
    sideways = np.stack([side * np.sin(abduction), -np.cos(abduction), np.zeros_like(abduction)], axis=1)
    return _forward(sideways, flexion)


def _bend(direction: np.ndarray, angle: np.ndarray, towards: np.ndarray) -> np.ndarray:
    """Turn unit ``direction`` ``(T, 3)`` by ``angle`` towards the unit vector ``towards`` ``(3,)``."""
    normal = towards[None, :] - (direction @ towards)[:, None] * direction
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    fallback = np.array([0.0, 1.0, 0.0])[None, :]
    normal = np.where(length > 1e-6, normal / np.maximum(length, 1e-6), fallback)
    return np.cos(angle)[:, None] * direction + np.sin(angle)[:, None] * normal


def _idle(a: Angles, t: np.ndarray, style: BodyStyle) -> None:
    a["sway"] = 0.03 * np.sin(2 * np.pi * 0.5 * style.speed * t + style.phase)
    a["nod"] = 0.1 * np.sin(2 * np.pi * 0.7 * style.speed * t)


def pose_sequence(action: int | None, num_frames: int, style: BodyStyle) -> np.ndarray:
    """``(T, 25, 3)`` body-frame joint positions of action index ``action`` (into :data:`ACTIONS`);
    ``None`` gives a bystander standing almost still."""
    t = np.linspace(0.0, 1.0, num_frames)
    angles = _zeros(t)
    (_idle if action is None else ACTIONS[action][2])(angles, t, style)
    s = style.scale
    joints = np.zeros((num_frames, 25, 3))
    up = _forward(np.tile([0.0, 1.0, 0.0], (num_frames, 1)), -angles["pitch"])  # torso axis, bows forward
    lateral = np.array([1.0, 0.0, 0.0])
    forward = np.array([0.0, 0.0, 1.0])
    root = np.zeros((num_frames, 3))
    joints[:, 0] = root
    joints[:, 1] = root + 0.25 * s * up
    joints[:, 20] = root + 0.48 * s * up
    joints[:, 2] = root + 0.56 * s * up
    head_axis = _forward(up, -angles["nod"])
    joints[:, 3] = joints[:, 2] + 0.14 * s * head_axis
    for side, (shoulder, elbow, wrist, hand, tip, thumb), key in (
        (1.0, (4, 5, 6, 7, 21, 22), "l"),
        (-1.0, (8, 9, 10, 11, 23, 24), "r"),
    ):
        joints[:, shoulder] = joints[:, 20] + 0.18 * s * side * lateral - 0.03 * s * up
        upper = _forward(_limb_direction(angles[f"abd_{key}"], angles[f"flex_{key}"], side), angles["pitch"])
        fore = _bend(upper, angles[f"elbow_{key}"], forward)
        joints[:, elbow] = joints[:, shoulder] + 0.29 * s * upper
        joints[:, wrist] = joints[:, elbow] + 0.25 * s * fore
        joints[:, hand] = joints[:, wrist] + 0.07 * s * fore
        joints[:, tip] = joints[:, hand] + 0.07 * s * fore
        joints[:, thumb] = joints[:, wrist] + 0.05 * s * (fore + side * lateral[None, :]) / np.sqrt(2)
    for side, (hip, knee, ankle, foot), key in ((1.0, (12, 13, 14, 15), "l"), (-1.0, (16, 17, 18, 19), "r")):
        joints[:, hip] = root + 0.09 * s * side * lateral - 0.03 * s * up
        thigh = _limb_direction(np.full(num_frames, 0.05), angles[f"hip_{key}"], side)
        shin = _forward(thigh, -angles[f"knee_{key}"])
        joints[:, knee] = joints[:, hip] + 0.44 * s * thigh
        joints[:, ankle] = joints[:, knee] + 0.42 * s * shin
        joints[:, foot] = joints[:, ankle] + 0.11 * s * np.array([0.0, -0.35, 0.94])
    lowest = joints[:, (14, 15, 18, 19), 1].min(axis=1)  # keep the feet on the floor
    joints[:, :, 1] -= lowest[:, None]
    joints[:, :, 1] += angles["jump"][:, None] * s
    joints[:, :, 0] += angles["sway"][:, None]
    joints[:, :, 2] += angles["walk"][:, None]
    return joints
