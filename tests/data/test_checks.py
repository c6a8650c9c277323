"""`inspect` and `prepare convert` warn, in words, about data that arrives uncentred,
padded, broken, with rare classes or classes missing from a split; --strict refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from skeletonmae.cli.main import main
from skeletonmae.data.checks import check_splits
from skeletonmae.data.samples import SkeletonSamples


def _kinect_camera_set(count: int = 30, padded: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """20-joint sequences in camera coordinates (z 1.4-3.9 m), 30-60 valid frames, zero-padded
    to ``padded``; sample 3 states 300 frames but only its first 20 hold a skeleton (broken)."""
    rng = np.random.default_rng(seed)
    data = np.zeros((count, 3, padded, 20, 1), np.float32)
    lengths = rng.integers(30, 60, count)
    for i in range(count):
        body = rng.normal(size=(3, 1, 20)) * 0.25 + np.array([0.0, 0.0, rng.uniform(1.4, 3.9)])[:, None, None]
        wave = 0.05 * np.sin(np.linspace(0, 6, lengths[i]))[None, :, None]
        data[i, :, : lengths[i], :, 0] = body + wave
    lengths[3] = 300
    labels = np.arange(count) % 3
    labels[-1] = 3  # one sample of class 3, and only in the test split
    split = np.array(["train"] * 20 + ["test"] * (count - 20))
    return {"data": data, "labels": labels, "lengths": lengths, "split": split}


def test_each_warning_in_words(tmp_path: Path, capsys):
    archive = tmp_path / "camera.npz"
    np.savez(archive, **_kinect_camera_set())
    assert main(["inspect", str(archive)]) == 0
    text = capsys.readouterr().out
    for expected in (
        "the skeletons are not centred: the centre joint (spine)",
        "hold all-zero frames inside their stated length (a broken recording?); the worst has",
        "test: the arrays keep 400 frames per sample but the longest valid sequence has",
        "class_3 (1); few-label subsets and k-NN need more",
        "1 class(es) never appear in the train split: class_3",
    ):
        assert expected in text, expected
    assert "sample_00003" in text  # the broken sample is named


def test_nonfinite_empty_and_frozen_samples_are_named():
    data = np.zeros((6, 3, 10, 20, 1), np.float32)
    data[:, :, :, :, 0] = np.random.default_rng(1).normal(size=(6, 3, 10, 20)) * 0.2
    data[1, :, 5] = np.nan
    data[2, :, 1:] = data[2, :, :1]  # frozen after the first frame
    lengths = np.full(6, 10)
    lengths[4] = 0
    samples = SkeletonSamples(data, np.arange(6) % 2, tuple(f"s{i}" for i in range(6)), lengths, "nw_ucla20",
                              ("a", "b"))  # fmt: skip
    found = {w.code: w for w in check_splits({"train": samples})}
    assert found["nonfinite"].samples == ("s1",)
    assert found["constant_frames"].samples == ("s2",)
    assert found["empty"].samples == ("s4",)


def test_convert_lists_warnings_in_the_manifest_and_strict_refuses(tmp_path: Path, capsys):
    archive = tmp_path / "camera.npz"
    np.savez(archive, **_kinect_camera_set())
    assert main(["prepare", "convert", str(archive), str(tmp_path / "out")]) == 0
    assert "warning: train: the skeletons are not centred" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    codes = {w["code"] for w in manifest["warnings"]}
    assert {"uncentred", "zero_frames", "padding", "rare_class", "split_classes"} <= codes
    assert main(["prepare", "convert", str(archive), str(tmp_path / "strict"), "--strict"]) == 1
    assert "under --strict" in capsys.readouterr().err
    assert not (tmp_path / "strict").exists()  # nothing half written
