"""The careful reader of ``.skeleton`` files: line by line, every count checked, every problem located.

It runs when the fast reader (:mod:`~skeletonmae.data.ntu_raw_fast`) declines a file. It accepts what
``str.splitlines`` / ``str.split`` / ``np.loadtxt`` accept (other line endings, runs of spaces or tabs,
numbers with exponents, extra values after the 12th of a joint line when only the used columns are
read) and raises :class:`DataFormatError` naming the file and the 1-based line of anything else.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_blocks import (
    BODY_INFO_FIELDS, JOINT_VALUES, MAX_BODIES_PER_FRAME, MAX_FRAMES, USED_COLUMNS, BodyBlocks,
)  # fmt: skip


def read_blocks_checked(text: str, source: Path, num_joints: int, full: bool) -> BodyBlocks:
    """All body blocks of the decoded file text; raises :class:`DataFormatError` naming ``source``."""
    lines = text.splitlines()
    per_frame, starts, frames, info_lines = _walk_headers(lines, source, num_joints)
    values = _joint_values(lines, starts, source, num_joints, full)  # (B, V, 12 or 4)
    block_ids, info = _body_info(lines, info_lines, source)
    body_index: dict[str, int] = {}
    block_bodies = np.asarray([body_index.setdefault(body_id, len(body_index)) for body_id in block_ids],
                              dtype=np.int64)
    return BodyBlocks(per_frame, np.asarray(frames, dtype=np.int64), np.asarray(info_lines, dtype=np.int64),
                      tuple(body_index), block_bodies, info, values)


def _read_count(lines: list[str], index: int, what: str, source: Path, upper: int) -> int:
    if index >= len(lines):
        raise DataFormatError(
            source, f"file ends early (truncated?): expected {what} at line {index + 1}; re-extract the file",
            line=index + 1,
        )
    token = lines[index].strip()
    try:
        value = int(token)
    except ValueError:
        raise DataFormatError(
            source, f"expected {what} (one integer), got {token[:60]!r}; the file is corrupt or not "
            "an NTU .skeleton file", line=index + 1,
        ) from None
    if not 0 <= value <= upper:
        raise DataFormatError(source, f"{what} {value} out of range 0..{upper}", line=index + 1)
    return value


def _walk_headers(
    lines: list[str], source: Path, num_joints: int
) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Visit the frame / body headers: ``(bodies per frame, first joint line of every block, frame of
    every block, info line of every block)`` (0-based line indices)."""
    num_frames = _read_count(lines, 0, "the frame count", source, upper=MAX_FRAMES)
    if num_frames == 0:
        raise DataFormatError(source, "frame count is 0 (empty sequence); nothing to read", line=1)
    per_frame = np.zeros(num_frames, dtype=np.int64)
    starts: list[int] = []
    frames: list[int] = []
    info_lines: list[int] = []
    cursor = 1
    for frame in range(num_frames):
        count = _read_count(lines, cursor, f"the body count of frame {frame + 1}", source, MAX_BODIES_PER_FRAME)
        per_frame[frame] = count
        cursor += 1
        for _ in range(count):
            if cursor >= len(lines):
                raise DataFormatError(source, f"file ends early (truncated?): expected a body info line at line "
                                      f"{cursor + 1}; re-extract the file", line=cursor + 1)
            info_lines.append(cursor)
            joints = _read_count(lines, cursor + 1, "the joint count", source, upper=10**3)
            if joints != num_joints:
                raise DataFormatError(
                    source, f"joint count {joints}, expected {num_joints} (Kinect v2)", line=cursor + 2
                )
            starts.append(cursor + 2)
            frames.append(frame)
            cursor += 2 + num_joints
            if cursor > len(lines):
                raise DataFormatError(
                    source, f"file ends inside frame {frame + 1}: expected {num_joints} joint lines "
                    f"from line {cursor - num_joints + 1} (truncated?); re-extract the file", line=len(lines),
                )
    extra = [i for i in range(cursor, len(lines)) if lines[i].strip()]
    if extra:
        raise DataFormatError(
            source, f"unexpected content after the last of {num_frames} frames: {lines[extra[0]][:60]!r} "
            "(the frame count does not match the data)", line=extra[0] + 1,
        )
    return per_frame, starts, frames, info_lines


def _joint_values(lines: list[str], starts: list[int], source: Path, num_joints: int, full: bool) -> np.ndarray:
    """All joint lines converted at once: ``(B, V, 12)`` float64, or ``(B, V, 4)`` (x, y, z,
    tracking state) unless ``full``."""
    width = JOINT_VALUES if full else len(USED_COLUMNS)
    if not starts:
        return np.zeros((0, num_joints, width))
    joint_lines = [line for start in starts for line in lines[start : start + num_joints]]
    try:
        values = np.loadtxt(joint_lines, dtype=np.float64, ndmin=2, usecols=None if full else USED_COLUMNS)
    except ValueError:
        values = None
    if values is None or values.shape[1] != width:
        _locate_bad_line(lines, starts, source, num_joints, JOINT_VALUES)
    values = values.reshape(len(starts), num_joints, width)
    finite = np.isfinite(values).all(axis=2)  # (B, V)
    if not finite.all():
        block, joint = np.argwhere(~finite)[0]
        raise DataFormatError(
            source, f"non-finite value (NaN or inf) in joint {joint + 1}; the sensor output is corrupt",
            line=starts[block] + joint + 1,
        )
    return values


def _locate_bad_line(lines: list[str], starts: list[int], source: Path, num_joints: int, width: int) -> None:
    """Slow path: find the first joint line that is not ``width`` numbers and raise for it."""
    for start in starts:
        for index in range(start, start + num_joints):
            tokens = lines[index].split()
            if len(tokens) != width:
                raise DataFormatError(
                    source, f"expected {width} numbers on a joint line, got {len(tokens)}", line=index + 1
                )
            for token in tokens:
                try:
                    float(token)
                except ValueError:
                    raise DataFormatError(
                        source, f"non-numeric value {token[:30]!r} on a joint line", line=index + 1
                    ) from None
    raise DataFormatError(source, "joint lines could not be read as numbers")


def _body_info(lines: list[str], info_lines: list[int], source: Path) -> tuple[list[str], np.ndarray]:
    """Body ids and the 9 info values of every body block: ``(B, 9)`` float32."""
    width = len(BODY_INFO_FIELDS)
    if not info_lines:
        return [], np.zeros((0, width), dtype=np.float32)
    split = [lines[index].split(maxsplit=1) for index in info_lines]
    ids = [parts[0] for parts in split]
    try:
        values = np.loadtxt([parts[1] if len(parts) == 2 else "" for parts in split], ndmin=2)
        good = values.shape[1] == width and bool(np.isfinite(values).all())
    except ValueError:
        good = False
    if not good:
        for index in info_lines:
            _check_info_line(lines[index], index, source)
        raise DataFormatError(source, "body info lines could not be read as numbers (np.loadtxt refused them)")
    return ids, values.astype(np.float32)


def _check_info_line(line: str, index: int, source: Path) -> None:
    tokens = line.split()
    if len(tokens) != 1 + len(BODY_INFO_FIELDS):
        raise DataFormatError(source, f"expected a body info line of 10 values, got {len(tokens)}", line=index + 1)
    try:
        row = [float(token) for token in tokens[1:]]
    except ValueError:
        raise DataFormatError(source, "non-numeric value on a body info line", line=index + 1) from None
    if not all(math.isfinite(value) for value in row):
        raise DataFormatError(source, "non-finite value (NaN or inf) on a body info line", line=index + 1)
