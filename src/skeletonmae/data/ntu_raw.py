"""Reader of raw NTU RGB+D ``.skeleton`` files (Kinect v2 text output) into per-body arrays.

File layout: line 1 holds the frame count; each frame holds a body count, then per body an info line
of 10 values (body id, clipped edges, left hand confidence/state, right hand confidence/state, is
restricted, lean x, lean y, tracking state), a joint count (25) and one line per joint of 12 values
(x y z, depth x y, colour x y, orientation w x y z, tracking state).

Two readers, one result. By default only what the pipeline uses is read (x, y, z and the tracking
state), by the fast reader (:mod:`~skeletonmae.data.ntu_raw_fast`: whole-file array passes and an
exact vectorised decimal parser, :mod:`~skeletonmae.data.decimal_tokens`) when the file is in the
strict shape Kinect writes. Anything else, and ``full=True`` (also the depth / colour pixel
coordinates and orientations), goes to the careful reader (:mod:`~skeletonmae.data.ntu_raw_checked`,
line by line with ``np.loadtxt``), which raises :class:`DataFormatError` naming the file and the
1-based line of what it rejects. Both give bit-identical arrays where both answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_blocks import (
    BODY_INFO_FIELDS, JOINT_VALUES, MAX_BODIES_PER_FRAME, NUM_JOINTS, BodyBlocks,
)  # fmt: skip
from skeletonmae.data.ntu_raw_checked import read_blocks_checked
from skeletonmae.data.ntu_raw_fast import read_blocks_fast

__all__ = [
    "BODY_INFO_FIELDS", "JOINT_VALUES", "MAX_BODIES_PER_FRAME", "NUM_JOINTS", "RawBody", "RawSkeleton",
    "parse_skeleton_bytes", "parse_skeleton_file",
]  # fmt: skip


@dataclass(frozen=True)
class RawBody:
    """One tracked body id across the frames it appears in (``F`` frames, ``V`` joints).

    - ``frames`` ``(F,)`` int64: 0-based indices into the file's frames (empty frames included).
    - ``joints`` ``(F, V, 3)`` float32: camera-space x, y, z in metres.
    - ``depth_xy`` / ``color_xy`` ``(F, V, 2)`` float32: pixel coordinates in the depth / colour image
      (``None`` unless parsed with ``full=True``).
    - ``orientation`` ``(F, V, 4)`` float32: joint orientation quaternion (w, x, y, z) (``None`` unless ``full``).
    - ``joint_tracking`` ``(F, V)`` int8: 0 not tracked, 1 inferred, 2 tracked.
    - ``info`` ``(F, 9)`` float32: the body info values named by :data:`BODY_INFO_FIELDS`.
    """

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
    """A parsed ``.skeleton`` file: ``bodies`` in order of first appearance.

    ``bodies_per_frame`` ``(num_frames,)`` int64 counts the bodies of every frame (0 = empty frame).
    """

    name: str
    path: Path | None
    num_frames: int
    bodies_per_frame: np.ndarray
    bodies: tuple[RawBody, ...]


def parse_skeleton_file(path: str | Path, *, num_joints: int = NUM_JOINTS, full: bool = False) -> RawSkeleton:
    """Read one ``.skeleton`` file. Raises :class:`DataFormatError` naming the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFormatError(path, f"cannot read the file ({error.strerror}); check the path") from error
    name = path.name[: -len(".skeleton")] if path.name.endswith(".skeleton") else path.stem
    return parse_skeleton_bytes(data, name=name, path=path, num_joints=num_joints, full=full)


def parse_skeleton_bytes(
    data: bytes, *, name: str, path: str | Path | None = None, num_joints: int = NUM_JOINTS, full: bool = False
) -> RawSkeleton:
    """Parse the bytes of a ``.skeleton`` file (see the module docstring for the layout)."""
    source = Path(path) if path is not None else Path(name)
    blocks = read_blocks_fast(data, num_joints) if data.isascii() and not full else None
    if blocks is None:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise DataFormatError(source, "non-ASCII byte; a .skeleton file is plain text", line=line) from error
        blocks = read_blocks_checked(text, source, num_joints, full)
    bodies = _group_bodies(blocks, source)
    return RawSkeleton(name, Path(path) if path is not None else None, len(blocks.bodies_per_frame),
                       blocks.bodies_per_frame, bodies)


def _group_bodies(blocks: BodyBlocks, source: Path) -> tuple[RawBody, ...]:
    """Group the body blocks by body id (order of first appearance)."""
    full = blocks.values.shape[2] == JOINT_VALUES
    bodies = []
    for number, body_id in enumerate(blocks.body_ids):
        index = np.flatnonzero(blocks.block_bodies == number)
        frames = blocks.frames[index]
        if np.any(np.diff(frames) == 0):
            repeated = int(frames[np.flatnonzero(np.diff(frames) == 0)[0]])
            raise DataFormatError(
                source, f"body id {body_id} appears twice in frame {repeated + 1}",
                line=int(blocks.info_lines[index[0]]) + 1,
            )
        body_values = blocks.values[index]  # (F, V, 12) or (F, V, 4)
        bodies.append(RawBody(
            body_id=body_id,
            frames=frames,
            joints=body_values[..., 0:3].astype(np.float32),
            depth_xy=body_values[..., 3:5].astype(np.float32) if full else None,
            color_xy=body_values[..., 5:7].astype(np.float32) if full else None,
            orientation=body_values[..., 7:11].astype(np.float32) if full else None,
            joint_tracking=body_values[..., -1].astype(np.int8),
            info=blocks.info[index],
        ))
    return tuple(bodies)
