"""The community's standard NTU RGB+D denoising (CTR-GCN's scripts, also used by STTFormer and MAMP).

(1) Frames without a body are dropped. (2) With several body ids: bodies seen in at most 11 frames go
(length), then bodies whose x-spread exceeds 0.8 x their y-spread in at least 69.754 % of their frames
(spread; until one is left); a partly-noisy body's motion (sum of per-axis variances of all joints) is
taken on its good frames. (3) By motion: the first body is actor 1; each other joins actor 1 if its
frame interval does not overlap actor 1's, else actor 2 if it does not overlap actor 2's (whose
interval starts at frame 0, as in CTR-GCN), else it is dropped. (4) Frames without an actor go.
(5) Everything is translated so that actor 1's first spine-middle joint is the origin.

On purpose unlike CTR-GCN, a body that vanishes and reappears keeps its true frame times (CTR-GCN
packs them from its first frame). ``motion_filter`` (drop second bodies with motion outside
``motion_range``) is the step CTR-GCN leaves commented out, off by default as in the published data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skeletonmae.config import require
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_raw import RawBody, RawSkeleton


@dataclass(frozen=True)
class PreprocessConfig:
    """Denoising settings; the defaults are the standard pipeline's."""

    max_persons: int = 2
    length_threshold: int = 11
    spread_ratio: float = 0.8
    spread_frame_fraction: float = 0.69754
    motion_filter: bool = False
    motion_range: tuple[float, float] = (0.089925, 2.0)
    center_joint: int = 1

    def __post_init__(self) -> None:
        require(self.max_persons >= 1, "max_persons", "must be at least 1 (NTU uses 2)")
        require(self.length_threshold >= 0, "length_threshold", "must be >= 0 (standard: 11)")
        require(self.spread_ratio > 0, "spread_ratio", "must be positive (standard: 0.8)")
        fraction = self.spread_frame_fraction
        require(0 < fraction <= 1, "spread_frame_fraction", "must be in (0, 1] (standard: 0.69754)")
        low, high = self.motion_range
        require(
            0 <= low < high,
            "motion_range",
            "must be (low, high) with 0 <= low < high (standard: 0.089925, 2)",
        )
        require(self.center_joint >= 0, "center_joint", "must be a joint index (NTU spine middle: 1)")


@dataclass(frozen=True)
class PreprocessedSample:
    """One denoised sample: ``joints`` ``(C=3, T, V, M)`` float32 with ``T`` valid frames, centred.

    ``present`` ``(T, M)`` bool marks which actor is present in which frame (absent = zeros);
    ``kept`` lists the body ids per actor; ``dropped`` lists ``(body_id, reason)`` pairs, the reason
    one of ``length`` (seen in at most ``length_threshold`` frames), ``spread``, ``motion`` (outside
    ``motion_range``, only with ``motion_filter``) or ``overlap`` (overlaps every kept actor in time).
    """

    name: str
    joints: np.ndarray
    present: np.ndarray
    kept: tuple[tuple[str, ...], ...]
    dropped: tuple[tuple[str, str], ...]


@dataclass(eq=False)
class _Track:
    """A body on the valid-frame time axis."""

    body_id: str
    frames: np.ndarray  # (F,) valid-frame indices
    joints: np.ndarray  # (F, V, 3)
    motion: float


def body_motion(joints: np.ndarray) -> float:
    """Sum over x, y, z of the variance of all joint positions ``(F, V, 3)`` (CTR-GCN's 'motion')."""
    return float(joints.reshape(-1, 3).var(axis=0).sum())


def noisy_spread_frames(joints: np.ndarray, ratio: float) -> np.ndarray:
    """``(F,)`` bool: frames whose x-extent exceeds ``ratio`` times their y-extent (lying 'bodies')."""
    extent = joints.max(axis=1) - joints.min(axis=1)  # (F, 3)
    return extent[:, 0] > ratio * extent[:, 1]


def preprocess_skeleton(
    raw: RawSkeleton, config: PreprocessConfig = PreprocessConfig()
) -> PreprocessedSample:
    """Denoise, select actors, drop empty frames and centre one raw sample (see the module docstring)."""
    source = raw.path if raw.path is not None else raw.name
    occupied = raw.bodies_per_frame > 0
    if not occupied.any():
        raise DataFormatError(source, f"none of the {raw.num_frames} frames holds a body (empty sequence)")
    valid_index = np.cumsum(occupied) - 1  # raw frame -> valid frame
    num_valid = int(occupied.sum())
    tracks = [_track(body, valid_index) for body in raw.bodies]
    dropped: list[tuple[str, str]] = []
    if len(tracks) > 1:
        tracks = _denoise(tracks, config, dropped, source)
    actors = _assign_actors(tracks, config.max_persons, dropped)
    joints, present = _place(actors, num_valid, config.max_persons)
    keep = present.any(axis=1)  # (T,)
    joints, present = joints[keep], present[keep]
    _center(joints, present, config.center_joint, source)
    kept = tuple(tuple(t.body_id for t, slot in actors if slot == s) for s in range(config.max_persons))
    return PreprocessedSample(
        raw.name, np.ascontiguousarray(joints.transpose(3, 0, 2, 1)), present, kept, tuple(dropped)
    )


def _track(body: RawBody, valid_index: np.ndarray) -> _Track:
    joints = body.joints.astype(np.float32)
    return _Track(body.body_id, valid_index[body.frames], joints, body_motion(joints))


def _denoise(tracks: list[_Track], config: PreprocessConfig, dropped: list, source: object) -> list[_Track]:
    """Length and spread filters, then rank by motion (optionally filter by motion)."""
    long_enough = [track for track in tracks if len(track.frames) > config.length_threshold]
    dropped += [(t.body_id, "length") for t in tracks if t not in long_enough]
    if not long_enough:
        raise DataFormatError(
            source, f"every body lasts at most {config.length_threshold} frames; nothing left after denoising"
        )
    tracks = long_enough
    if len(tracks) > 1:
        tracks = _spread_filter(tracks, config, dropped)
    ranked = sorted(tracks, key=lambda track: track.motion, reverse=True)  # stable for ties
    if config.motion_filter and len(ranked) > 1:
        low, high = config.motion_range
        kept = [ranked[0]] + [t for t in ranked[1:] if low <= t.motion <= high]
        dropped += [(t.body_id, "motion") for t in ranked if t not in kept]
        ranked = kept
    return ranked


def _spread_filter(tracks: list[_Track], config: PreprocessConfig, dropped: list) -> list[_Track]:
    remaining = list(tracks)
    for track in tracks:
        if len(remaining) == 1:
            break
        noisy = noisy_spread_frames(track.joints, config.spread_ratio)
        if not noisy.any():
            continue
        if noisy.mean() >= config.spread_frame_fraction:
            remaining.remove(track)
            dropped.append((track.body_id, "spread"))
        else:
            track.motion = min(track.motion, body_motion(track.joints[~noisy]))
    return remaining


def _assign_actors(ranked: list[_Track], max_persons: int, dropped: list) -> list[tuple[_Track, int]]:
    """CTR-GCN's slot rules: ``(track, slot)`` of every placed track, in rank order."""
    first = ranked[0]
    intervals = [[int(first.frames[0]), int(first.frames[-1])]] + [[0, 0] for _ in range(max_persons - 1)]
    placed = [(first, 0)]
    for track in ranked[1:]:
        begin, finish = int(track.frames[0]), int(track.frames[-1])
        for slot, (start, end) in enumerate(intervals):
            if min(end, finish) - max(start, begin) <= 0:  # no overlap with this actor
                placed.append((track, slot))
                intervals[slot] = [min(start, begin), max(end, finish)]
                break
        else:
            dropped.append((track.body_id, "overlap"))
    return placed


def _place(
    placed: list[tuple[_Track, int]], num_frames: int, max_persons: int
) -> tuple[np.ndarray, np.ndarray]:
    """Write the actors into ``(T, M, V, 3)`` joints and a ``(T, M)`` presence mask."""
    num_joints = placed[0][0].joints.shape[1]
    joints = np.zeros((num_frames, max_persons, num_joints, 3), dtype=np.float32)
    present = np.zeros((num_frames, max_persons), dtype=bool)
    for track, slot in placed:
        joints[track.frames, slot] = track.joints
        present[track.frames, slot] = True
    return joints, present


def _center(joints: np.ndarray, present: np.ndarray, center_joint: int, source: object) -> None:
    """In place: subtract actor 1's centre joint of its first present frame from every present joint."""
    if center_joint >= joints.shape[2]:
        raise DataFormatError(source, f"center joint {center_joint} >= {joints.shape[2]} joints")
    first = int(np.flatnonzero(present[:, 0])[0])
    origin = joints[first, 0, center_joint].copy()  # (3,)
    joints[present] -= origin
