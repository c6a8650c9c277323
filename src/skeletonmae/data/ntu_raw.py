"""Reader of raw NTU RGB+D ``.skeleton`` files (Kinect v2 text output) into per-body arrays.

Line 1 holds the frame count; each frame a body count, then per body an info line of 10 values (body
id, clipped edges, left hand confidence/state, right hand confidence/state, is restricted, lean x,
lean y, tracking state), a joint count (25) and 25 joint lines of 12 values (x y z, depth x y, colour
x y, orientation w x y z, tracking state). The headers are walked in Python, the joint lines converted
in one ``np.loadtxt`` call (only x, y, z and tracking unless ``full=True``, about 2x faster); a bad
line is located (file, 1-based line) by a slow re-scan that runs only once something is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeletonmae.data.errors import DataFormatError

NUM_JOINTS = 25
JOINT_VALUES = 12
_USED_COLUMNS = (0, 1, 2, 11)  # x, y, z, tracking state
BODY_INFO_FIELDS: tuple[str, ...] = (
    "clipped_edges", "hand_left_confidence", "hand_left_state", "hand_right_confidence",
    "hand_right_state", "is_restricted", "lean_x", "lean_y", "tracking_state",
)  # fmt: skip
MAX_BODIES_PER_FRAME = 16  # Kinect v2 tracks 6; anything far above is a corrupt count


@dataclass(frozen=True)
class RawBody:
    """One tracked body id over the ``F`` frames it appears in: ``frames`` ``(F,)`` int64 (indices into
    the file's frames, empty ones included), ``joints`` ``(F, V, 3)`` float32 camera-space metres,
    ``joint_tracking`` ``(F, V)`` int8 (0 not tracked, 1 inferred, 2 tracked), ``info`` ``(F, 9)``
    float32 (:data:`BODY_INFO_FIELDS`); with ``full=True`` also ``depth_xy`` / ``color_xy``
    ``(F, V, 2)`` float32 pixels and ``orientation`` ``(F, V, 4)`` float32 quaternions (w, x, y, z)."""

    body_id: str
    frames: np.ndarray
    joints: np.ndarray
    depth_xy: np.ndarray | None
    color_xy: np.ndarray | None
    orientation: np.ndarray | None
    joint_tracking: np.ndarray
    info: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


@dataclass(frozen=True)
class RawSkeleton:
    """A parsed file: ``bodies`` by first appearance, ``bodies_per_frame`` ``(num_frames,)`` (0: empty)."""

    name: str
    path: Path | None
    num_frames: int
    bodies_per_frame: np.ndarray
    bodies: tuple[RawBody, ...]


@dataclass
class _Layout:
    """Where things are in the file (line indices are 0-based here)."""

    bodies_per_frame: np.ndarray
    block_starts: list[int]  # first joint line of each body block
    block_frames: list[int]
    info_lines: list[int]


def parse_skeleton_file(path: str | Path, *, full: bool = False) -> RawSkeleton:
    """Read one ``.skeleton`` file. Raises :class:`DataFormatError` naming the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFormatError(path, f"cannot read the file ({error.strerror}); check the path") from error
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataFormatError(path, "non-ASCII byte; a .skeleton file is plain text", line=line) from error
    lines = text.splitlines()
    layout = _walk_headers(lines, path)
    values = _joint_values(lines, layout, path, full)  # (blocks, V, 12 or 4)
    info_ids, info_values = _body_info(lines, layout, path)
    bodies = _group_bodies(layout, values, info_ids, info_values, path)
    return RawSkeleton(path.stem, path, len(layout.bodies_per_frame), layout.bodies_per_frame, bodies)


def _read_count(lines: list[str], index: int, what: str, source: Path, upper: int) -> int:
    if index >= len(lines):
        raise DataFormatError(
            source,
            f"file ends early (truncated?): expected {what} at line {index + 1}; re-extract the file",
            line=index + 1,
        )
    token = lines[index].strip()
    try:
        value = int(token)
    except ValueError:
        raise DataFormatError(
            source,
            f"expected {what} (one integer), got {token[:60]!r}; the file is corrupt or not "
            "an NTU .skeleton file",
            line=index + 1,
        ) from None
    if not 0 <= value <= upper:
        raise DataFormatError(source, f"{what} {value} out of range 0..{upper}", line=index + 1)
    return value


def _walk_headers(lines: list[str], source: Path) -> _Layout:
    """Where every body block is, from the frame / body headers, every count checked."""
    num_frames = _read_count(lines, 0, "the frame count", source, upper=10**6)
    if num_frames == 0:
        raise DataFormatError(source, "frame count is 0 (empty sequence); nothing to read", line=1)
    per_frame = np.zeros(num_frames, dtype=np.int64)
    starts, frames, info_lines = [], [], []  # of every body block (see _Layout)
    cursor = 1
    for frame in range(num_frames):
        count = _read_count(
            lines, cursor, f"the body count of frame {frame + 1}", source, MAX_BODIES_PER_FRAME
        )
        per_frame[frame] = count
        cursor += 1
        for _ in range(count):
            if cursor >= len(lines):
                raise DataFormatError(
                    source,
                    f"file ends early (truncated?): expected a body info line at line "
                    f"{cursor + 1}; re-extract the file",
                    line=cursor + 1,
                )
            info_lines.append(cursor)
            joints = _read_count(lines, cursor + 1, "the joint count", source, upper=10**3)
            if joints != NUM_JOINTS:
                raise DataFormatError(
                    source, f"joint count {joints}, expected {NUM_JOINTS} (Kinect v2)", line=cursor + 2
                )
            starts.append(cursor + 2)
            frames.append(frame)
            cursor += 2 + NUM_JOINTS
            if cursor > len(lines):
                raise DataFormatError(
                    source,
                    f"file ends inside frame {frame + 1}: expected {NUM_JOINTS} joint lines "
                    f"from line {cursor - NUM_JOINTS + 1} (truncated?); re-extract the file",
                    line=len(lines),
                )
    extra = [i for i in range(cursor, len(lines)) if lines[i].strip()]
    if extra:
        raise DataFormatError(
            source,
            f"unexpected content after the last of {num_frames} frames: {lines[extra[0]][:60]!r} "
            "(the frame count does not match the data)",
            line=extra[0] + 1,
        )
    return _Layout(per_frame, starts, frames, info_lines)


def _joint_values(lines: list[str], layout: _Layout, source: Path, full: bool) -> np.ndarray:
    """All joint lines at once: ``(blocks, V, 12)`` float64, or ``(blocks, V, 4)`` (x, y, z, tracking)."""
    width = JOINT_VALUES if full else len(_USED_COLUMNS)
    if not layout.block_starts:
        return np.zeros((0, NUM_JOINTS, width))
    indices = [index for start in layout.block_starts for index in range(start, start + NUM_JOINTS)]
    try:
        values = np.loadtxt([lines[i] for i in indices], ndmin=2, usecols=None if full else _USED_COLUMNS)
    except ValueError:
        values = None
    if values is None or values.shape[1] != width:
        raise _bad_line(lines, indices, "joint line", JOINT_VALUES, source)
    values = values.reshape(len(layout.block_starts), NUM_JOINTS, width)
    finite = np.isfinite(values).all(axis=2)  # (blocks, V)
    if not finite.all():
        block, joint = np.argwhere(~finite)[0]
        raise DataFormatError(
            source,
            f"non-finite value (NaN or inf) in joint {joint + 1}; the sensor output is corrupt",
            line=layout.block_starts[block] + joint + 1,
        )
    return values


def _body_info(lines: list[str], layout: _Layout, source: Path) -> tuple[list[str], np.ndarray]:
    """Body ids and the 9 info values of every body block: ``(blocks, 9)`` float32."""
    width = len(BODY_INFO_FIELDS)
    if not layout.info_lines:
        return [], np.zeros((0, width), dtype=np.float32)
    split = [lines[index].split(maxsplit=1) for index in layout.info_lines]
    try:
        values = np.loadtxt([parts[1] if len(parts) == 2 else "" for parts in split], ndmin=2)
        good = values.shape[1] == width and bool(np.isfinite(values).all())
    except ValueError:
        good = False
    if not good:
        raise _bad_line(lines, layout.info_lines, "body info line", 1 + width, source, skip=1)
    return [parts[0] for parts in split], values.astype(np.float32)


def _bad_line(
    lines: list[str], indices: Iterable[int], what: str, count: int, source: Path, skip: int = 0
) -> DataFormatError:
    """Slow path: the error of the first line that is not ``count`` values (finite after ``skip``)."""
    for index in indices:
        tokens = lines[index].split()
        if len(tokens) != count:
            return DataFormatError(
                source, f"expected {count} numbers on a {what}, got {len(tokens)}", line=index + 1
            )
        for token in tokens[skip:]:
            try:
                value = float(token)
            except ValueError:
                return DataFormatError(
                    source, f"non-numeric value {token[:30]!r} on a {what}", line=index + 1
                )
            if not math.isfinite(value):
                return DataFormatError(source, f"non-finite value (NaN or inf) on a {what}", line=index + 1)
    return DataFormatError(source, f"{what}s could not be read as numbers")


def _group_bodies(
    layout: _Layout, values: np.ndarray, ids: list[str], info: np.ndarray, source: Path
) -> tuple[RawBody, ...]:
    """Group the body blocks by body id (order of first appearance)."""
    blocks_of: dict[str, list[int]] = {}
    for block, body_id in enumerate(ids):
        blocks_of.setdefault(body_id, []).append(block)
    frames_all = np.asarray(layout.block_frames, dtype=np.int64)
    bodies = []
    for body_id, blocks in blocks_of.items():
        index = np.asarray(blocks, dtype=np.int64)
        frames = frames_all[index]
        if np.any(np.diff(frames) == 0):
            repeated = int(frames[np.flatnonzero(np.diff(frames) == 0)[0]])
            raise DataFormatError(
                source,
                f"body id {body_id} appears twice in frame {repeated + 1}",
                line=layout.info_lines[blocks[0]] + 1,
            )
        body = values[index]  # (F, V, 12) or (F, V, 4)
        full = body.shape[2] == JOINT_VALUES
        depth_xy, color_xy, orientation = (
            body[..., start:stop].astype(np.float32) if full else None
            for start, stop in ((3, 5), (5, 7), (7, 11))
        )
        joints, tracking = body[..., 0:3].astype(np.float32), body[..., -1].astype(np.int8)
        bodies.append(
            RawBody(body_id, frames, joints, depth_xy, color_xy, orientation, tracking, info[index])
        )
    return tuple(bodies)
