"""OpenPose's per-frame JSON (``--write_json``), one folder per video, to labelled samples.

A frame file ``<video>_<frame:012d>_keypoints.json`` holds ``{"people": [{"pose_keypoints_2d": [x0,
y0, c0, ...]}, ...]}``: BODY_25 (``openpose_body25``) or, with ``--model_pose COCO``, COCO-18
(``openpose18``). Folders name the class (and the split) of every video: ``ROOT/<class>/<video>/``, or
``ROOT/<split>/<class>/<video>/`` when ROOT holds train/ val/ test/. Samples are ``(3, T, V, M)``
``xy_score`` (pixels, confidence), frames in frame-number order; people are not tracked, so each frame
keeps its ``M`` most confident detections, most confident first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.samples import SkeletonSamples

KEY = "pose_keypoints_2d"
FRAME_NUMBER = re.compile(r"_(\d+)_keypoints\.json$")
LAYOUT_BY_COUNT = {25: "openpose_body25", 18: "openpose18"}
SPLIT_NAMES = ("train", "val", "test")


def is_openpose_folder(path: Path) -> bool:
    return any(path.glob("*/*/*_keypoints.json")) or any(path.glob("*/*/*/*_keypoints.json"))


def read_openpose_folder(path: str | Path, num_persons: int = 2) -> dict[str, SkeletonSamples]:
    """One :class:`SkeletonSamples` per split of an OpenPose JSON tree (see the module doc)."""
    root = Path(path)
    has_splits = any((root / name).is_dir() for name in SPLIT_NAMES)
    split_dirs = [root / name for name in SPLIT_NAMES if (root / name).is_dir()] if has_splits else [root]
    classes = sorted({c.name for s in split_dirs for c in s.iterdir() if c.is_dir()})
    if not classes:
        raise DataFormatError(root, "no class folders; expected ROOT/<class>/<video>/*_keypoints.json")
    splits = {}
    for split_dir in split_dirs:
        videos = sorted(v for c in split_dir.iterdir() if c.is_dir() for v in c.iterdir() if v.is_dir())
        sequences = [_read_video(video, num_persons) for video in videos]
        sequences = [(video, joints) for video, joints in zip(videos, sequences) if joints is not None]
        if sequences:
            splits[split_dir.name if has_splits else "train"] = _samples(sequences, classes, num_persons)
    if not splits:
        raise DataFormatError(root, "no video folder holds *_keypoints.json files")
    return splits


def read_openpose_video(video: str | Path, num_persons: int = 2) -> tuple[np.ndarray, str]:
    """One video folder of ``*_keypoints.json`` frames -> ``(3, T, V, M)`` (x, y, score) and its
    layout name; raises :class:`DataFormatError` naming the bad file."""
    joints = _read_video(Path(video), num_persons)
    if joints is None:
        raise DataFormatError(video, "no *_keypoints.json frame files (OpenPose --write_json output)")
    return joints, LAYOUT_BY_COUNT[joints.shape[2]]


def _read_video(video: Path, num_persons: int) -> np.ndarray | None:
    """``(3, T, V, num_persons)`` keypoints (x, y, score) of a video folder, or None without frames."""
    files = sorted(video.glob("*_keypoints.json"), key=_frame_number)
    if not files:
        return None
    frames = [_read_frame(file, num_persons) for file in files]
    joint_counts = {f.shape[1] for f in frames if f.size}
    if len(joint_counts) > 1:
        raise DataFormatError(video, f"frames hold different keypoint counts {sorted(joint_counts)}")
    joints = joint_counts.pop() if joint_counts else 25
    out = np.zeros((len(frames), num_persons, joints, 3), np.float32)
    for t, people in enumerate(frames):
        if len(people):
            out[t, : len(people)] = people
    return np.ascontiguousarray(out.transpose(3, 0, 2, 1))


def _frame_number(file: Path) -> int:
    match = FRAME_NUMBER.search(file.name)
    return int(match.group(1)) if match else 0


def _read_frame(file: Path, num_persons: int) -> np.ndarray:
    """``(P, V, 3)`` of one frame's most confident people."""
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(file, f"invalid JSON ({error.msg})", line=error.lineno) from None
    people = record.get("people") if isinstance(record, dict) else None
    if not isinstance(people, list):
        raise DataFormatError(file, "expected a 'people' list (OpenPose --write_json output)", key="people")
    bodies = []
    for index, person in enumerate(people):
        values = person.get(KEY) if isinstance(person, dict) else None
        if not isinstance(values, list) or len(values) % 3 or len(values) // 3 not in LAYOUT_BY_COUNT:
            raise DataFormatError(
                file, f"person {index}: expected {KEY} with 25 or 18 (x, y, confidence) triples", key=KEY
            )
        bodies.append(np.asarray(values, np.float32).reshape(-1, 3))
    bodies.sort(key=lambda body: -float(body[:, 2].mean()))
    return np.stack(bodies[:num_persons]) if bodies else np.zeros((0, 0, 3), np.float32)


def _samples(sequences: list[tuple[Path, np.ndarray]], classes: list[str], persons: int) -> SkeletonSamples:
    joints = {seq.shape[2] for _, seq in sequences}
    if len(joints) > 1:
        raise DataFormatError(
            sequences[0][0].parent.parent, f"videos hold different keypoint counts {sorted(joints)}"
        )
    num_joints = joints.pop()
    labels = [classes.index(video.parent.name) for video, _ in sequences]
    names = [f"{video.parent.name}/{video.name}" for video, _ in sequences]
    layout, shape = LAYOUT_BY_COUNT[num_joints], (3, num_joints, persons)
    arrays = [seq for _, seq in sequences]
    return SkeletonSamples.from_sequences(
        arrays, labels, names, layout, tuple(classes), shape=shape, channels="xy_score"
    )
