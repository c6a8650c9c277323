"""The fast reader of well-formed ``.skeleton`` files: whole-file array passes, no Python loop per line.

It reads what the pipeline uses (x, y, z and the tracking state; ``full=True`` goes to the careful
reader, which is faster for all 12 columns) of files in the strict shape Kinect writes: lines ending
in ``\\n`` or ``\\r\\n``, no other control byte, no ``#`` (``np.loadtxt`` would read a comment), no
space at either end of a line, exactly 12 values on a joint line and 10 on a body info line, and a
one-digit tracking state. Anything else returns ``None`` and
:mod:`~skeletonmae.data.ntu_raw_checked` reads the file line by line (accepting what it accepts and
naming the line of what it rejects), so the two give identical results wherever this one answers.

Steps: find every line (one ``flatnonzero``) and count its values (one ``reduceat``); check the frame,
body and joint counts against the line pattern they imply (vectorised over frames); read x, y, z by
stepping from value to value in 16-byte windows, one batch per column
(:mod:`~skeletonmae.data.decimal_tokens`); take the tracking state from the last byte of each line;
read the info lines through one window per line.
"""

from __future__ import annotations

import numpy as np

from skeletonmae.data.decimal_tokens import padded_text, read_decimals
from skeletonmae.data.ntu_blocks import (
    BODY_INFO_FIELDS, JOINT_VALUES, MAX_BODIES_PER_FRAME, MAX_FRAMES, BodyBlocks,
)  # fmt: skip

_INFO_VALUES = 1 + len(BODY_INFO_FIELDS)  # body id + 9 values
_LEAN_COLUMNS = 3  # x, y, z; the tracking state is read from the last byte


def read_blocks_fast(data: bytes, num_joints: int) -> BodyBlocks | None:
    """The body blocks of an ASCII ``.skeleton`` file with ``(B, V, 4)`` values (x, y, z, tracking
    state), or ``None`` if the file is not in the strict shape."""
    if not data.endswith(b"\n") or b"#" in data:
        return None
    text, words = padded_text(data)
    lines = _lines(text[: len(data)])
    if lines is None:
        return None
    starts, ends, value_counts = lines
    layout = _layout(data, text, starts, ends, value_counts, num_joints)
    if layout is None:
        return None
    bodies_per_frame, frames, info_lines = layout
    info = _info_fields(text, starts[info_lines], ends[info_lines])
    if info is None:
        return None
    body_ids, block_bodies, info_starts = info
    rows = (info_lines[:, None] + 2 + np.arange(num_joints)).ravel()  # (B * V,) joint lines
    values = _lean_values(data, text, words, starts[rows], ends[rows], info_starts)
    if values is None:
        return None
    joint_values, info_values = values
    return BodyBlocks(bodies_per_frame, frames, info_lines, body_ids, block_bodies,
                      info_values.reshape(-1, len(BODY_INFO_FIELDS)).astype(np.float32),
                      joint_values.reshape(len(info_lines), num_joints, joint_values.shape[1]))


def _lines(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(starts, ends, value counts)`` of every line (ends exclude ``\\r\\n``), or ``None`` if some
    control byte other than a line ending is present."""
    flags = np.empty(text.size, dtype=bool)  # one scratch buffer for the whole-file passes
    newlines = np.flatnonzero(np.equal(text, 10, out=flags))
    starts = np.empty_like(newlines)
    starts[0], starts[1:] = 0, newlines[:-1] + 1
    carriage = text[newlines - 1] == 13
    if np.count_nonzero(np.less(text, 32, out=flags)) != newlines.size + np.count_nonzero(carriage):
        return None  # a tab, a lone \r, a form feed...: the careful reader splits lines its own way
    if int((newlines - starts).max()) >= 2**16:
        return None  # the uint16 value counts below could wrap
    solid = np.greater(text, 32, out=flags)
    value_starts = np.empty(text.size, dtype=np.uint8)  # a value starts where solid follows non-solid
    value_starts[0] = solid[0]
    np.greater(solid[1:], solid[:-1], out=value_starts[1:].view(bool))
    counts = np.add.reduceat(value_starts, starts, dtype=np.uint16)
    return starts, newlines - carriage, counts


def _small_ints(data: bytes, text: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The integers on one-value lines (a single digit is read in bulk, longer ones with ``int``)."""
    digit = text[starts].astype(np.int64) - 48
    values = np.where((ends - starts == 1) & (digit >= 0) & (digit <= 9), digit, -1)
    for index in np.flatnonzero(values < 0).tolist():
        try:
            values[index] = int(data[starts[index] : ends[index]])
        except ValueError:
            return None
    return values


def _layout(
    data: bytes, text: np.ndarray, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray, num_joints: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(bodies per frame (F,), frame of every block (B,), info line of every block (B,))`` when
    the lines follow the pattern: frame count, then per frame a body count and per body an info
    line, a joint count line and ``num_joints`` joint lines."""
    block_lines = 2 + num_joints
    head = _small_ints(data, text, starts[:1], ends[:1])
    if head is None or counts[0] != 1 or not 0 < head[0] <= MAX_FRAMES:
        return None
    num_frames = int(head[0])
    info_lines = np.flatnonzero(counts == _INFO_VALUES)
    single = np.flatnonzero(counts[1:] == 1) + 1
    after_info = counts[single - 1] == _INFO_VALUES
    count_lines = single[~after_info]  # the body count of every frame
    if count_lines.size != num_frames or not np.array_equal(single[after_info], info_lines + 1):
        return None
    bodies = _small_ints(data, text, starts[count_lines], ends[count_lines])
    if bodies is None or not ((bodies >= 0) & (bodies <= MAX_BODIES_PER_FRAME)).all():
        return None
    blocks_before = np.cumsum(bodies) - bodies  # (F,)
    if not np.array_equal(count_lines, 1 + np.arange(num_frames) + block_lines * blocks_before):
        return None
    if starts.size != 1 + num_frames + block_lines * int(bodies.sum()):
        return None  # (also catches trailing lines)
    frames = np.repeat(np.arange(num_frames), bodies)  # (B,)
    within = np.arange(frames.size) - blocks_before[frames]
    if not np.array_equal(info_lines, count_lines[frames] + 1 + block_lines * within):
        return None
    joint_rows = info_lines[:, None] + 2 + np.arange(num_joints)  # (B, V)
    if not (counts[joint_rows] == JOINT_VALUES).all():
        return None
    expected = str(num_joints).encode()  # the joint count lines must read exactly "25"
    joint_starts = starts[info_lines + 1]
    if not (ends[info_lines + 1] - joint_starts == len(expected)).all():
        return None
    for offset, char in enumerate(expected):
        if not (text[joint_starts + offset] == char).all():
            return None
    return bodies.astype(np.int64), frames, info_lines


def _lean_values(
    data: bytes, text: np.ndarray, words: np.ndarray, starts: np.ndarray, ends: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(R, 4)`` float64 x, y, z and tracking state of the joint lines (``starts`` / ``ends`` ``(R,)``),
    and the values starting at the byte offsets ``extra`` (read in the same batch as the x column).

    One batch per column: each value starts one byte after the previous one ends."""
    state = text[ends - 1].astype(np.int64) - 48  # a one-digit last value, as Kinect writes it
    if not ((text[ends - 2] == 32) & (state >= 0) & (state <= 9)).all():
        return None
    read = read_decimals(data, words, np.concatenate([starts, extra]))
    if read is None:
        return None
    columns = np.empty((starts.size, _LEAN_COLUMNS + 1))  # (R, 4)
    columns[:, 0], extra_values, lengths = read[0][: starts.size], read[0][starts.size :], read[1][: starts.size]
    for column in range(1, _LEAN_COLUMNS):
        starts = starts + lengths + 1
        read = read_decimals(data, words, starts)
        if read is None:
            return None
        columns[:, column], lengths = read
    columns[:, -1] = state
    if not (np.isfinite(columns).all() and np.isfinite(extra_values).all()):
        return None  # e.g. 1e999: the careful reader names the line
    return columns, extra_values


def _info_fields(
    text: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray] | None:
    """The info lines (``starts`` / ``ends`` ``(B,)``): ``(distinct body ids in order of first
    appearance, (B,) index into them, (B * 9,) byte offsets of the 9 info values)``."""
    if starts.size == 0:
        return (), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    width = int((ends - starts).max()) + 1  # each window holds its line and the line end
    if width > 256 or int(starts.max()) + width > text.size:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(text, width)[starts]  # (B, width)
    rows, columns = np.nonzero(windows <= 32)
    first = np.searchsorted(rows, np.arange(starts.size))
    separators = columns[first[:, None] + np.arange(_INFO_VALUES)]  # (B, 10): 9 spaces, then the line end
    if not (separators[:, 0] > 0).all():
        return None
    id_size = int(separators[:, 0].max())
    ids = np.where(np.arange(id_size) < separators[:, :1], windows[:, :id_size], 0)  # (B, id_size), 0-padded
    distinct, first_block, block_bodies = np.unique(
        np.ascontiguousarray(ids).view(f"S{id_size}").ravel(), return_index=True, return_inverse=True
    )
    order = np.argsort(first_block)  # number the bodies in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    body_ids = tuple(distinct[order].astype(str).tolist())
    return body_ids, rank[block_bodies.ravel()], (starts[:, None] + separators[:, :-1] + 1).ravel()
