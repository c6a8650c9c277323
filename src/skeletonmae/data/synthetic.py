"""Real-format NTU ``.skeleton`` and NW-UCLA JSON files of synthetic people (test and demo data only,
never a stand-in for real data): one performer doing one of
:data:`~skeletonmae.data.synthetic_motion.ACTIONS` before a Kinect-like camera, and what the denoiser
must handle (a bystander who vanishes for a few frames, a short flicker or flat "furniture" ghost,
empty frames, sensor noise). Names span subjects, cameras and setups for every benchmark split.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.atomic import write_text_atomic
from skeletonmae.config import require
from skeletonmae.data.splits import NTU60_XSUB_TRAIN_SUBJECTS, NtuSampleName
from skeletonmae.data.synthetic_motion import ACTIONS, BodyStyle, pose_sequence

BODY_ID_BASE = 72057594037927936  # Kinect v2 body ids look like 72057594037931101
_JOINT_LINE = "%.7g %.7g %.7g %.5g %.5g %.5g %.5g %.7g %.7g %.7g %.7g %d\n"
_TEST_SUBJECTS = tuple(sorted(set(range(1, 41)) - NTU60_XSUB_TRAIN_SUBJECTS))
_TRAIN_SUBJECTS = tuple(sorted(NTU60_XSUB_TRAIN_SUBJECTS))
_MAX_NAME_ATTEMPTS = 1000


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate; fractions are per file."""

    num_actions: int = 6
    seed: int = 0
    two_body_fraction: float = 0.2
    ghost_fraction: float = 0.1
    missing_frame_fraction: float = 0.1
    frame_range: tuple[int, int] = (50, 110)
    noise_std: float = 0.004
    ntu120_fraction: float = 0.0

    def __post_init__(self) -> None:
        require(1 <= self.num_actions <= len(ACTIONS), "num_actions", f"must be in 1..{len(ACTIONS)}")
        for name in ("two_body_fraction", "ghost_fraction", "missing_frame_fraction", "ntu120_fraction"):
            require(0.0 <= getattr(self, name) <= 1.0, name, "must be a fraction in [0, 1]")
        low, high = self.frame_range
        require(24 <= low <= high <= 300, "frame_range", "must be (low, high) with 24 <= low <= high <= 300")
        require(self.noise_std >= 0, "noise_std", "must be >= 0 (metres)")


@dataclass
class _SceneBody:
    body_id: int
    frames: np.ndarray  # (F,) frame indices
    joints: np.ndarray  # (F, 25, 3) camera space


def write_synthetic_ntu(out_dir: str | os.PathLike, num_samples: int, **options: Any) -> list[Path]:
    """Write ``num_samples`` ``.skeleton`` files (:class:`SyntheticConfig` ``options``) into ``out_dir``;
    sample ``i`` does action ``i % num_actions``, ``ntu120_fraction`` of them in setups 18-32.
    Returns the paths in name order; deterministic in ``seed``."""
    config = SyntheticConfig(**options)
    names = plan_names(num_samples, config)

    def skeleton_file(index: int) -> tuple[str, str]:
        rng = np.random.default_rng([config.seed, index])
        bodies, num_frames = _scene(index % config.num_actions, names[index], config, rng)
        return f"{names[index].name}.skeleton", format_skeleton(bodies, num_frames, rng)

    return _write_files(out_dir, num_samples, skeleton_file)


def _write_files(
    out_dir: str | os.PathLike, num_samples: int, file_of: Callable[[int], tuple[str, str]]
) -> list[Path]:
    """Write ``file_of(i)`` = ``(name, text)`` of every sample into ``out_dir``; paths in name order."""
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    files = map(file_of, range(num_samples))
    return sorted(write_text_atomic(Path(out_dir) / name, text) for name, text in files)


def plan_names(num_samples: int, config: SyntheticConfig) -> list[NtuSampleName]:
    """Unique sample names; consecutive rounds of classes cycle camera, subject side and setup parity."""
    rng = np.random.default_rng([config.seed, 1_000_003])
    names, used = [], set()
    for index in range(num_samples):
        round_ = index // config.num_actions
        camera = 1 + round_ % 3
        train_subject = round_ % 2 == 0
        even_setup = (round_ // 2) % 2 == 0
        action = ACTIONS[index % config.num_actions][0]
        for _ in range(_MAX_NAME_ATTEMPTS):
            late = rng.random() < config.ntu120_fraction
            setups = range(18, 33) if late else range(1, 18)
            setup = int(rng.choice([s for s in setups if (s % 2 == 0) == even_setup]))
            performer = int(rng.choice(_TRAIN_SUBJECTS if train_subject else _TEST_SUBJECTS))
            name = NtuSampleName(setup, camera, performer, int(rng.integers(1, 3)), action)
            if name not in used:
                break
        else:
            raise ValueError(
                f"could not find {num_samples} distinct NTU names for {config.num_actions} actions; "
                "use more actions or fewer samples"
            )
        used.add(name)
        names.append(name)
    return names


def _scene(
    action: int, name: NtuSampleName, config: SyntheticConfig, rng: np.random.Generator
) -> tuple[list[_SceneBody], int]:
    num_frames = int(rng.integers(config.frame_range[0], config.frame_range[1] + 1))
    yaw = {1: 0.0, 2: 0.785, 3: -0.785}[name.camera] + 0.3 * (name.replication - 1) + rng.normal(0, 0.1)
    position = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-1.1, -0.85), rng.uniform(2.6, 3.6)])
    main = _person(action, num_frames, yaw, position, config.noise_std, rng)
    ids = iter(BODY_ID_BASE + rng.choice(100_000, size=4, replace=False))
    bodies = [_SceneBody(int(next(ids)), np.arange(num_frames), main)]
    if rng.random() < config.two_body_fraction:
        offset = np.array([rng.choice([-1, 1]) * rng.uniform(0.9, 1.3), 0.0, rng.uniform(-0.3, 0.3)])
        other = _person(None, num_frames, yaw + rng.normal(0, 0.3), position + offset, config.noise_std, rng)
        visible = np.ones(num_frames, bool)
        gap = int(rng.integers(num_frames // 4, num_frames // 2))
        visible[gap : gap + int(rng.integers(2, 6))] = False  # the bystander vanishes, then returns
        bodies.append(_SceneBody(int(next(ids)), np.flatnonzero(visible), other[visible]))
    if rng.random() < config.ghost_fraction:
        bodies.insert(
            int(rng.integers(0, len(bodies) + 1)), _ghost(int(next(ids)), num_frames, position, rng)
        )
    if rng.random() < config.missing_frame_fraction:
        start = int(rng.integers(1, num_frames - 6))
        empty = np.arange(start, start + int(rng.integers(1, 5)))
        for body in bodies:
            keep = ~np.isin(body.frames, empty)
            body.frames, body.joints = body.frames[keep], body.joints[keep]
    bodies = [body for body in bodies if body.frames.size]
    return bodies, num_frames


def _person(
    action: int | None, frames: int, yaw: float, position: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """``(T, 25, 3)`` camera-space joints of one performer (facing the camera, turned by ``yaw``)."""
    style = BodyStyle(
        scale=rng.uniform(0.85, 1.12),
        speed=rng.uniform(0.75, 1.35),
        amplitude=rng.uniform(0.8, 1.2),
        phase=rng.uniform(0, 2 * np.pi),
    )
    body = pose_sequence(action, frames, style)  # (T, V, 3), body frame
    angle = np.pi + yaw  # body forward (+z) faces the camera (-z)
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    joints = body @ rotation.T + position  # (T, V, 3)
    return joints + rng.normal(0, noise, joints.shape)


def _ghost(body_id: int, num_frames: int, position: np.ndarray, rng: np.random.Generator) -> _SceneBody:
    """A noise body: a short flicker (length rule) or a wide flat object (spread rule)."""
    if rng.random() < 0.5:
        length = int(rng.integers(2, 11))
        start = int(rng.integers(0, num_frames - length))
        frames = np.arange(start, start + length)
        joints = position + rng.normal(0, 0.3, (length, 25, 3))
    else:
        frames = np.arange(num_frames)
        spot = position + np.array([rng.uniform(-1.5, 1.5), 0.4, rng.uniform(0.3, 0.8)])
        flat = np.stack(
            [rng.uniform(-0.7, 0.7, 25), rng.uniform(-0.08, 0.08, 25), rng.uniform(-0.2, 0.2, 25)], 1
        )
        joints = spot + flat[None] + rng.normal(0, 0.01, (num_frames, 25, 3))
    return _SceneBody(body_id, frames, joints)


def format_skeleton(bodies: list[_SceneBody], num_frames: int, rng: np.random.Generator) -> str:
    """The text of a ``.skeleton`` file holding ``bodies`` over ``num_frames`` frames."""
    rows_of = [dict(zip(body.frames.tolist(), _joint_rows(body.joints, rng))) for body in bodies]
    parts = [f"{num_frames}\n"]
    for frame in range(num_frames):
        present = [(body, rows[frame]) for body, rows in zip(bodies, rows_of) if frame in rows]
        parts.append(f"{len(present)}\n")
        for body, block in present:
            lean = rng.normal(0, 0.05, 2)
            parts.append(f"{body.body_id} 0 1 1 1 1 0 {lean[0]:.7g} {lean[1]:.7g} 2\n25\n")
            parts.append(block)
    return "".join(parts)


def _joint_rows(joints: np.ndarray, rng: np.random.Generator) -> list[str]:
    """One 25-line text block per frame: x y z, depth x y, colour x y, orientation w x y z, tracking."""
    count = joints.shape[0]
    x, y, z = joints[..., 0], joints[..., 1], np.maximum(joints[..., 2], 0.5)
    values = np.empty((count, 25, 12))
    values[..., :3] = joints
    values[..., 3], values[..., 4] = 256 + 365 * x / z, 212 - 365 * y / z  # depth camera pixels
    values[..., 5], values[..., 6] = 960 + 1060 * x / z, 540 - 1060 * y / z  # colour camera pixels
    values[..., 7:11] = (1.0, 0.0, 0.0, 0.0)
    values[..., 11] = np.where(rng.random((count, 25)) < 0.03, 1, 2)  # a few inferred joints
    template = _JOINT_LINE * 25
    return [template % tuple(frame.ravel().tolist()) for frame in values]


# Kinect v1 (NW-UCLA, 20 joints) is Kinect v2 without the neck's spine-shoulder split, hand tips and
# thumbs: its joints in order, as indices of the 25-joint body.
KINECT_V1_FROM_V2 = (0, 1, 20, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
# NW-UCLA's labels 1..10 are its actions a01-a06, a08, a09, a11, a12 (data/classes.py).
NW_UCLA_ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)


def write_synthetic_nw_ucla(
    out_dir: str | os.PathLike, num_samples: int, *, num_actions: int = 6, seed: int = 0
) -> list[Path]:
    """Write ``num_samples`` ``all_sqe``-style JSON files (20 Kinect v1 joints, metres) into ``out_dir``;
    sample ``i`` does action ``i % num_actions`` seen from view ``(i // num_actions) % 3 + 1`` (each
    view turns the performer differently). Returns the paths in name order; deterministic in ``seed``."""
    config = SyntheticConfig(num_actions, seed, frame_range=(30, 80))

    def json_file(index: int) -> tuple[str, str]:
        rng = np.random.default_rng([seed, index, 20])
        label, view = index % num_actions, (index // num_actions) % 3 + 1
        take = index // (num_actions * 3)
        name = f"a{NW_UCLA_ACTIONS[label]:02d}_s{take % 10 + 1:02d}_e{take // 10:02d}_v{view:02d}"
        num_frames = int(rng.integers(*config.frame_range))
        yaw = {1: 0.5, 2: -0.5, 3: 0.0}[view] + rng.normal(0, 0.15)
        position = np.array([rng.uniform(-0.4, 0.4), rng.uniform(-1.0, -0.8), rng.uniform(2.4, 3.4)])
        joints = _person(label, num_frames, yaw, position, config.noise_std, rng)[:, KINECT_V1_FROM_V2]
        record = {"file_name": name, "skeletons": np.round(joints, 5).tolist(), "label": label + 1}
        return f"{name}.json", json.dumps(record)

    return _write_files(out_dir, num_samples, json_file)
