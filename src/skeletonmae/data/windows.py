"""Cut long recordings into clips (``prepare convert --window N --stride S``): for ``L`` valid frames,
clips start at ``0, S, 2S, ...`` and hold ``min(N, L - start)`` frames; the last is the first that
reaches the end, so with ``S == N`` every frame lands in one clip (``S < N`` overlaps, ``S > N`` skips)
and ``L <= N`` is one clip. Clip ``k`` of ``NAME`` is ``NAME/wKKK``, with its label.
"""

from __future__ import annotations

import numpy as np

from skeletonmae.data.samples import SkeletonSamples


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """First frames of the clips of a sequence of ``length`` valid frames (see the module rule)."""
    _check(window, stride)
    starts = [0]
    while starts[-1] + window < length:
        starts.append(starts[-1] + stride)
    return [start for start in starts if start < max(length, 1)]


def window_samples(samples: SkeletonSamples, window: int, stride: int) -> SkeletonSamples:
    """Every sample of ``samples`` ``(N, C, T, V, M)`` cut into clips ``(N', C, window, V, M)``."""
    _check(window, stride)
    plan = [
        (index, clip, start)
        for index, length in enumerate(samples.lengths.tolist())
        for clip, start in enumerate(window_starts(length, window, stride))
    ]
    _, channels, _, joints, persons = samples.data.shape
    data = np.zeros((len(plan), channels, window, joints, persons), dtype=samples.data.dtype)
    lengths = np.zeros(len(plan), dtype=np.int64)
    for row, (index, _, start) in enumerate(plan):
        lengths[row] = size = max(0, min(window, int(samples.lengths[index]) - start))
        data[row, :, :size] = samples.data[index, :, start : start + size]
    names = tuple(f"{samples.names[index]}/w{clip:03d}" for index, clip, _ in plan)
    labels = samples.labels[[index for index, _, _ in plan]].astype(np.int64)
    return SkeletonSamples(
        data, labels, names, lengths, samples.layout, samples.class_names, samples.channels
    )


def _check(window: int, stride: int) -> None:
    if window < 1 or stride < 1:
        raise ValueError(
            f"--window {window} --stride {stride}: both must be at least 1 frame "
            "(e.g. --window 64 --stride 64 for non-overlapping clips)"
        )
