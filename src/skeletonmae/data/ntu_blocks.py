"""What both ``.skeleton`` readers produce: the file's body blocks in file order, before grouping by body id.

The fast reader (:mod:`~skeletonmae.data.ntu_raw_fast`) and the careful one
(:mod:`~skeletonmae.data.ntu_raw_checked`) return the same :class:`BodyBlocks`;
:mod:`~skeletonmae.data.ntu_raw` groups them into bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_JOINTS = 25
JOINT_VALUES = 12
USED_COLUMNS = (0, 1, 2, 11)  # x, y, z, tracking state: what the pipeline reads by default
BODY_INFO_FIELDS: tuple[str, ...] = (
    "clipped_edges", "hand_left_confidence", "hand_left_state", "hand_right_confidence",
    "hand_right_state", "is_restricted", "lean_x", "lean_y", "tracking_state",
)  # fmt: skip
MAX_BODIES_PER_FRAME = 16  # Kinect v2 tracks 6; anything far above is a corrupt count
MAX_FRAMES = 10**6


@dataclass(frozen=True)
class BodyBlocks:
    """Every body block of a file (``B`` blocks: one per body per frame), in file order.

    - ``bodies_per_frame`` ``(F,)`` int64: body count of every frame (0 = empty frame).
    - ``frames`` ``(B,)`` int64: 0-based frame of each block.
    - ``info_lines`` ``(B,)`` int64: 0-based line index of each block's body info line.
    - ``body_ids``: the distinct body ids (first value of an info line, kept as text: 17 digits), in order
      of first appearance; ``block_bodies`` ``(B,)`` int64 indexes them for every block.
    - ``info`` ``(B, 9)`` float32: the other info values, named by :data:`BODY_INFO_FIELDS`.
    - ``values`` ``(B, V, 12)`` float64: every joint value, or ``(B, V, 4)`` (:data:`USED_COLUMNS`).
    """

    bodies_per_frame: np.ndarray
    frames: np.ndarray
    info_lines: np.ndarray
    body_ids: tuple[str, ...]
    block_bodies: np.ndarray
    info: np.ndarray
    values: np.ndarray
