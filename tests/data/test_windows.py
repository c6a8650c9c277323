"""Cutting long recordings into clips (``prepare convert --window N --stride S``)."""

from __future__ import annotations

import numpy as np
import pytest

from skeletonmae.data.formats.convert import convert
from skeletonmae.data.formats.generic import write_generic_npz
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import load_split
from skeletonmae.data.windows import window_samples, window_starts


def _recordings(lengths: list[int], frames: int = 300) -> SkeletonSamples:
    data = np.zeros((len(lengths), 3, frames, 20, 1), np.float32)
    for index, length in enumerate(lengths):  # frame t of sample i holds (i, t, 1) at every joint
        data[index, 0, :length] = index
        data[index, 1, :length] = np.arange(length)[:, None, None]
        data[index, 2, :length] = 1
    return SkeletonSamples.from_arrays(
        data,
        np.array([3, -1] * (len(lengths) // 2) + [3] * (len(lengths) % 2)),
        lengths=np.array(lengths),
        layout="nw_ucla20",
    )


def test_window_starts_follow_the_remainder_rule():
    assert window_starts(200, 64, 64) == [0, 64, 128, 192]  # 64 + 64 + 64 + a remainder of 8
    assert window_starts(192, 64, 64) == [0, 64, 128]  # no empty remainder
    assert window_starts(40, 64, 64) == [0]  # shorter than a window: kept whole
    assert window_starts(100, 64, 16) == [0, 16, 32, 48]  # overlapping: the last reaches the end
    assert window_starts(0, 64, 64) == [0]
    with pytest.raises(ValueError, match="at least 1 frame"):
        window_starts(10, 0, 1)


def test_non_overlapping_windows_keep_every_frame_once():
    samples = _recordings([200, 40, 128])
    clips = window_samples(samples, 64, 64)
    assert clips.lengths.tolist() == [64, 64, 64, 8, 40, 64, 64]
    assert clips.names[:4] == tuple(f"sample_00000/w{k:03d}" for k in range(4))
    assert clips.labels.tolist() == [3, 3, 3, 3, -1, 3, 3]
    seen = [
        (int(clip[0, t, 0, 0]), int(clip[1, t, 0, 0]))
        for clip, length in zip(clips.data, clips.lengths)
        for t in range(length)
    ]
    expected = [(i, t) for i, length in enumerate([200, 40, 128]) for t in range(length)]
    assert seen == expected  # each (sample, frame) exactly once, in order
    assert not clips.data[3, :, 8:].any()  # the remainder clip is zero-padded


def test_prepare_convert_windows_a_generic_archive(tmp_path):
    archive = write_generic_npz(tmp_path / "long.npz", {"train": _recordings([300, 70])})
    counts, _ = convert(archive, tmp_path / "clips", window=(64, 32))
    split = load_split(tmp_path / "clips" / "train")
    assert counts == {"train": 9 + 2} and split.data.shape[2] == 64
    assert split.lengths.tolist() == [64] * 8 + [44] + [64, 38]
