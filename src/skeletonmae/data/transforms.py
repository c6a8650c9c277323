"""Training / test transforms of STTFormer's feeder, vectorised over a batch, in this order:

- **crop and resize**: training crops a random fraction ``p ~ U(crop_range)`` of the valid frames (at
  least ``min_crop_frames``) at a random offset, testing the centre ``test_crop``; the crop is resized
  to ``num_frames`` linearly with ``align_corners=False`` sampling (STTFormer's ``F.interpolate``);
- ``normalize_scale`` divides by the body size; ``align_facing`` (3D) turns a sample about the vertical
  axis so that its first person's right-to-left direction (right minus left joints of the layout's
  ``left_right`` pairs, over all frames) lies along +x, removing the camera's azimuth;
- training only: rotation ``U(-max, max)`` about x, y, z (``rotation`` or ``rotation_axes``) as one
  ``Rz @ Ry @ Rx`` (STTFormer's signs; in 2D the z angle turns the image plane), a random scale
  (``scale_range``), a mirror flip (``flip_prob``: x -> -x, left and right joints swapped) and a
  shear (x += s * y, s ~ U(-shear, shear));
- ``minmax_normalize`` rescales each spatial axis to [-1, 1] over the frames that hold a skeleton
  (CTR-GCN's NW-UCLA feeder); then the stream: ``joint``, ``bone`` (joint minus its parent),
  ``motion`` (next frame minus this one, zero for the last) or ``bone_motion``.

Geometry acts on the first ``spatial_dims`` channels only (a score channel passes through). A sample's
eight draws (crop fraction and offset, three angles, scale, flip, shear) come from
:func:`~skeletonmae.data.random_streams.uniform_streams`: the same alone or inside any batch.
"""

from __future__ import annotations

import numpy as np

from skeletonmae.run_config import STREAMS, TransformConfig

DRAWS_PER_SAMPLE = 8
SIZE_EPS = 1e-6


def crop_windows(
    lengths: np.ndarray, config: TransformConfig, train: bool, uniforms: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(start, size)`` int64 ``(B,)`` crops of ``lengths`` ``(B,)`` valid frames (shorter than
    ``min_crop_frames``: whole; empty: one frame)."""
    valid = np.maximum(np.asarray(lengths, dtype=np.int64), 1)
    if not train:
        margin = ((1.0 - config.test_crop) * valid / 2).astype(np.int64)  # int() truncation, as STTFormer
        return margin, valid - 2 * margin
    low, high = config.crop_range
    fraction = low + uniforms[:, 0] * (high - low)
    size = np.minimum(np.maximum(np.floor(valid * fraction).astype(np.int64), config.min_crop_frames), valid)
    start = np.floor(uniforms[:, 1] * (valid - size + 1)).astype(np.int64)
    return start, size


def resize_positions(
    start: np.ndarray, size: np.ndarray, num_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(B, T)`` lower and upper source frames and float32 weights of linear resizing."""
    # float32 arithmetic, as PyTorch's CPU kernel does, so the weights match F.interpolate closely
    scale = (size.astype(np.float32) / np.float32(num_frames))[:, None]  # (B, 1)
    centres = np.arange(num_frames, dtype=np.float32)[None, :] + np.float32(0.5)  # (1, T)
    position = np.maximum(scale * centres - np.float32(0.5), np.float32(0.0))  # (B, T)
    lower = np.minimum(position.astype(np.int64), size[:, None] - 1)
    upper = np.minimum(lower + 1, size[:, None] - 1)
    weight = (position - lower.astype(np.float32)).astype(np.float32)
    return start[:, None] + lower, start[:, None] + upper, weight


def rotation_matrices(angles: np.ndarray) -> np.ndarray:
    """``(B, 3, 3)`` float32 ``Rz @ Ry @ Rx`` for ``angles`` ``(B, 3)`` (about x, y, z), where
    ``Rx = [[1, 0, 0], [0, c, s], [0, -s, c]]``, ``Ry = [[c, 0, -s], [0, 1, 0], [s, 0, c]]`` and
    ``Rz = [[c, s, 0], [-s, c, 0], [0, 0, 1]]`` (STTFormer's conventions), multiplied out."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles).T, np.sin(angles).T
    entries = (
        cz * cy, cz * sy * sx + sz * cx, sz * sx - cz * sy * cx,
        -sz * cy, cz * cx - sz * sy * sx, sz * sy * cx + cz * sx,
        sy, -cy * sx, cy * cx,
    )  # fmt: skip
    return np.stack(entries, axis=1).reshape(-1, 3, 3).astype(np.float32)


def to_stream(x: np.ndarray, stream: str, parents: np.ndarray | None = None) -> np.ndarray:
    """``x`` ``(B, C, T, V, M)`` as ``stream`` (a new array unless ``joint``; see the module doc)."""
    if stream == "joint":
        return x
    if stream in ("bone", "bone_motion"):
        if parents is None:
            raise ValueError(
                f"the {stream} stream needs the layout's parents (SkeletonLayout.parent_index())"
            )
        bones = x - x[:, :, :, parents]
        return bones if stream == "bone" else to_stream(bones, "motion")
    if stream == "motion":
        motion = np.zeros_like(x)
        motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
        return motion
    raise ValueError(f"unknown stream {stream!r}; choose one of {STREAMS}")


def plane_rotations(angles: np.ndarray) -> np.ndarray:
    """``(B, 2, 2)`` float32 in-plane rotations ``[[c, s], [-s, c]]`` (``Rz`` on x, y) for ``(B,)``."""
    c, s = np.cos(angles), np.sin(angles)
    return np.stack([c, s, -s, c], axis=1).reshape(-1, 2, 2).astype(np.float32)


def transform_batch(
    data: np.ndarray,
    rows: np.ndarray,
    lengths: np.ndarray,
    config: TransformConfig,
    *,
    train: bool,
    uniforms: np.ndarray | None = None,
    parents: np.ndarray | None = None,
    spatial_dims: int = 3,
    mirror: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
) -> np.ndarray:
    """Transform samples ``rows`` ``(B,)`` of ``data`` ``(N, C, T_max, V, M)`` into float32
    ``(B, C, num_frames, V, M)``. Training needs ``uniforms`` ``(B, config.draws_needed)``;
    ``flip_prob > 0`` needs ``mirror`` ``(V,)``, the layout's left/right permutation, and
    ``align_facing`` its ``pairs`` ``(P, 2)`` of (left, right) joints."""
    needed = config.draws_needed
    if train and (
        uniforms is None or uniforms.ndim != 2 or uniforms.shape[0] != len(rows) or uniforms.shape[1] < needed
    ):
        raise ValueError(f"training transforms need uniforms of shape ({len(rows)}, {needed})")
    if spatial_dims not in (2, 3) or spatial_dims > data.shape[1]:
        raise ValueError(f"spatial_dims must be 2 or 3 and at most C={data.shape[1]}, got {spatial_dims}")
    start, size = crop_windows(lengths, config, train, uniforms)
    lower, upper, weight = resize_positions(start, size, config.num_frames)  # (B, T) each
    picked = _gather_frames(data, rows, np.stack([lower, upper], axis=1))  # (B, 2, C, T, V, M), our own copy
    first, x = picked[:, 0], picked[:, 1]
    x -= first  # in place: x = first + weight * (second - first)
    x *= weight[:, None, :, None, None]
    x += first  # (B, C, T, V, M)
    space = x[:, :spatial_dims]  # a view: the edits below change x
    if config.normalize_scale:
        space /= body_size(space)[:, None, None, None, None]
    if config.align_facing:
        space[...] = face_forward(space, pairs)
    if train:
        _augment(x, spatial_dims, config, uniforms, mirror)
    if config.minmax_normalize:
        space[...] = minmax_box(space)
    if spatial_dims == x.shape[1]:
        return np.ascontiguousarray(to_stream(x, config.stream, parents))
    x[:, :spatial_dims] = to_stream(space, config.stream, parents)
    return np.ascontiguousarray(x)


def _augment(
    x: np.ndarray, dims: int, config: TransformConfig, uniforms: np.ndarray, mirror: np.ndarray | None
) -> None:
    """Random rotation and scale of the positions ``x[:, :dims]`` and the mirror flip of whole
    joints (every channel) of ``x`` ``(B, C, T, V, M)``, in place."""
    count = x.shape[0]
    space = x[:, :dims]  # a view
    if config.max_angles.any():
        angles = (uniforms[:, 2:5] * 2.0 - 1.0) * config.max_angles  # (B, 3) in [-max, max)
        matrices = rotation_matrices(angles) if dims == 3 else plane_rotations(angles[:, 2])
        space[...] = (matrices @ space.reshape(count, dims, -1)).reshape(space.shape)  # (B, D, T*V*M)
    if config.random_scale:
        low, high = config.scale_range
        scale = low + uniforms[:, 5] * (high - low)  # (B,)
        space *= scale.astype(np.float32)[:, None, None, None, None]
    if config.flip_prob > 0:
        if mirror is None:
            raise ValueError("flip_prob > 0 needs the layout's left/right joint permutation (flip_index)")
        flipped = uniforms[:, 6] < config.flip_prob  # (B,)
        if flipped.any():
            mirrored = x[flipped][:, :, :, mirror]  # left and right joints swap, scores with them
            mirrored[:, 0] *= -1.0  # x = -x: a mirror about the x = 0 plane (centred data)
            x[flipped] = mirrored
    if config.shear > 0:
        amount = ((uniforms[:, 7] * 2.0 - 1.0) * config.shear).astype(np.float32)  # (B,)
        space[:, 0] += amount[:, None, None, None] * space[:, 1]  # x += s * y: a horizontal shear


def facing_problem(spatial_dims: int, pairs: np.ndarray | None) -> str | None:
    """Why ``align_facing`` cannot run on this data, with the fix (``None`` when it can)."""
    if spatial_dims != 3:
        problem = f"turns 3D skeletons about the vertical axis; this data is {spatial_dims}D"
    elif pairs is None or len(pairs) == 0:
        problem = "needs the layout's left_right joint pairs; this layout has none"
    else:
        return None
    fix = "set data.transform.align_facing=false (e.g. for 2D keypoints)"
    return f"data.transform.align_facing {problem}: {fix}"


def face_forward(space: np.ndarray, pairs: np.ndarray | None) -> np.ndarray:
    """Positions ``space`` ``(B, 3, T, V, M)`` turned about the y axis, per sample, so that the first
    person's right-to-left direction (``pairs`` ``(P, 2)`` of (left, right) joints; right minus left,
    summed over pairs and frames, projected on the x-z plane) points along +x. Zeros stay zero; an
    empty sample is left as it is. 2D data or no pairs: ValueError (:func:`facing_problem`)."""
    problem = facing_problem(space.shape[1], pairs)
    if problem is not None:
        raise ValueError(problem)
    person = space[..., 0]  # (B, 3, T, V)
    across = (person[:, :, :, pairs[:, 1]] - person[:, :, :, pairs[:, 0]]).sum(axis=(2, 3))  # (B, 3)
    angle = np.arctan2(across[:, 2], across[:, 0])  # (B,); atan2(0, 0) = 0: no turn
    zero = np.zeros_like(angle)
    turn = rotation_matrices(np.stack([zero, -angle, zero], axis=1))  # (B, 3, 3): Ry(-angle)
    count = space.shape[0]
    return (turn @ space.reshape(count, 3, -1)).reshape(space.shape)


def present_frames(x: np.ndarray) -> np.ndarray:
    """``(B, T, M)`` bool: frames (per person) of ``x`` ``(B, C, T, V, M)`` holding a non-zero value."""
    return (x != 0).any(axis=1).any(axis=2)  # two single-axis passes: 3x faster than any(axis=(1, 3))


def body_size(x: np.ndarray) -> np.ndarray:
    """``(B,)`` size of each sample ``x (B, C, T, V, M)``: the RMS distance of the joints from
    their per-frame centroid, averaged over the frames (and persons) that hold a skeleton;
    1 for an all-zero sample."""
    centred = x - x.mean(axis=3, keepdims=True)  # (B, C, T, V, M)
    spread = np.sqrt((centred**2).sum(axis=1).mean(axis=2))  # (B, T, M)
    present = present_frames(x)  # (B, T, M)
    total = (spread * present).sum(axis=(1, 2))
    count = present.sum(axis=(1, 2))
    size = np.where(count > 0, total / np.maximum(count, 1), 1.0)
    return np.maximum(size, SIZE_EPS).astype(np.float32)


def minmax_box(x: np.ndarray) -> np.ndarray:
    """``x`` ``(B, D, T, V, M)`` with each axis ``d`` of each sample rescaled to [-1, 1] over the frames
    (and persons) that hold a skeleton; absent ones (all zero, e.g. padding) stay zero, and a flat
    axis maps to 0."""
    present = present_frames(x)[:, None, :, None, :]  # (B, 1, T, 1, M)
    inf = np.float32(np.inf)  # float32 throughout: a float64 fill would upcast the whole batch
    low = np.where(present, x, inf).min(axis=(2, 3, 4), keepdims=True)  # (B, D, 1, 1, 1)
    high = np.where(present, x, -inf).max(axis=(2, 3, 4), keepdims=True)
    found = np.isfinite(low)
    span = np.where(found, high - low, np.float32(0.0))
    safe = np.maximum(span, np.float32(SIZE_EPS))
    scale = np.where(span > SIZE_EPS, np.float32(2.0) / safe, np.float32(0.0))
    low = np.where(found, low, np.float32(0.0))
    scaled = (x - low) * scale - (scale > 0)  # [-1, 1]; a flat axis (scale 0) maps to 0
    return (scaled * present).astype(np.float32, copy=False)


def _gather_frames(data: np.ndarray, rows: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``data[rows[b], :, frames[b, k]]`` for every ``b``, ``k``: a new float32 ``(B, K, C, F, V, M)``
    array for ``frames`` ``(B, K, F)``. One fancy-indexing read of only the needed frames."""
    plain = np.asarray(data)  # a memmap as a plain view: skips memmap's per-call Python overhead
    count, groups, _ = frames.shape
    channels = np.arange(plain.shape[1])
    picked = plain[
        np.asarray(rows).reshape(count, 1, 1, 1),
        channels.reshape(1, 1, -1, 1),
        frames.reshape(count, groups, 1, -1),
    ]  # (B, K, C, F, V, M)
    return np.asarray(picked, dtype=np.float32)  # fancy indexing already copied: safe to modify in place
