"""2D keypoints (and a declared keypoint score) through transforms, prepare, pre-training,
fine-tuning, prediction and drawing; a 2D run never touches a 3x3 rotation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skeletonmae.cli.main import main
from skeletonmae.data import transforms
from skeletonmae.data.channels import check_channels, spatial_dims
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.generic import read_generic_npz
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.random_streams import uniform_streams
from skeletonmae.data.store import load_split
from skeletonmae.data.transforms import transform_batch
from skeletonmae.run_config import TransformConfig


def _coco_clips(count: int, channels: int = 2, frames: int = 16, seed: int = 0) -> np.ndarray:
    """``(N, C, T, 17, 1)`` centred 2D poses whose class (index % 3) sets a motion frequency; with
    ``channels = 3`` the last channel is a confidence in [0.5, 1]."""
    rng = np.random.default_rng(seed)
    time = np.linspace(0.0, 1.0, frames)
    data = np.zeros((count, channels, frames, 17, 1), np.float32)
    for i in range(count):
        pose = rng.normal(size=(2, 1, 17)) * 0.3
        data[i, :2, :, :, 0] = pose + 0.3 * np.sin(2 * np.pi * (i % 3 + 1) * time)[None, :, None]
        if channels == 3:
            data[i, 2] = rng.uniform(0.5, 1.0, size=(frames, 17, 1))
    return data


def _train(config: TransformConfig, data: np.ndarray, channels: str) -> np.ndarray:
    rows = np.arange(len(data))
    lengths = np.full(len(data), data.shape[2])
    uniforms = uniform_streams(0, 0, rows, config.draws_needed)
    layout = get_layout("coco17")
    return transform_batch(
        data,
        rows,
        lengths,
        config,
        train=True,
        uniforms=uniforms,
        parents=layout.parent_index(),
        spatial_dims=spatial_dims(channels),
        mirror=layout.flip_index(),
    )


def test_channel_declarations_are_checked_against_the_count():
    assert check_channels("", 2) == "xy" and check_channels("", 3) == "xyz"
    assert check_channels("xy_score", 3) == "xy_score" and spatial_dims("xy_score") == 2
    with pytest.raises(ValueError, match="means 2 channels, the data has 3"):
        check_channels("xy", 3)
    with pytest.raises(ValueError, match="declare what they hold"):
        check_channels("", 4)


def test_2d_rotation_is_in_plane_and_never_builds_a_3x3_matrix(monkeypatch):
    def no_3d(angles):
        raise AssertionError("a 2D batch asked for a 3x3 rotation")

    monkeypatch.setattr(transforms, "rotation_matrices", no_3d)
    data = _coco_clips(6)
    config = TransformConfig(num_frames=16, crop_range=(1.0, 1.0), min_crop_frames=16, rotation=0.5)
    out = _train(config, data, "xy")
    assert out.shape == data.shape
    still = _train(
        TransformConfig(num_frames=16, crop_range=(1.0, 1.0), min_crop_frames=16, rotation=0), data, "xy"
    )
    # A rotation about the origin keeps every joint's distance to the origin, but moves the joints.
    assert np.allclose(np.linalg.norm(out, axis=1), np.linalg.norm(still, axis=1), atol=1e-5)
    assert not np.allclose(out, still, atol=1e-3)


def test_a_keypoint_score_is_not_rotated_scaled_flipped_or_differenced():
    data = _coco_clips(6, channels=3)
    config = TransformConfig(
        num_frames=16,
        crop_range=(1.0, 1.0),
        min_crop_frames=16,
        rotation=0.5,
        scale_range=(0.5, 2.0),
        normalize_scale=True,
        flip_prob=1.0,
        stream="motion",
    )
    out = _train(config, data, "xy_score")
    flipped = data[:, 2][:, :, get_layout("coco17").flip_index()]  # every sample is flipped
    assert np.allclose(out[:, 2], flipped, atol=1e-6)  # the score moves with its joint only
    assert not np.allclose(out[:, :2], 0)


def test_flip_mirrors_x_and_swaps_left_and_right_joints():
    data = _coco_clips(4)
    base = dict(num_frames=16, crop_range=(1.0, 1.0), min_crop_frames=16, rotation=0.0)
    plain = _train(TransformConfig(**base), data, "xy")
    flipped = _train(TransformConfig(**base, flip_prob=1.0), data, "xy")
    mirror = get_layout("coco17").flip_index()
    assert np.allclose(flipped[:, 0], -plain[:, 0][:, :, mirror])
    assert np.allclose(flipped[:, 1], plain[:, 1][:, :, mirror])


def test_generic_archive_names_a_wrong_channel_declaration(tmp_path: Path):
    path = tmp_path / "mine.npz"
    np.savez(path, data=_coco_clips(3), labels=np.zeros(3, int), channels=np.array("xyz"))
    with pytest.raises(DataFormatError, match="key 'channels'.*means 3 channels"):
        read_generic_npz(path)


@pytest.mark.parametrize("channels", ["xy", "xy_score"])
def test_2d_coco_prepare_pretrain_finetune_predict_and_draw(tmp_path: Path, channels: str, capsys):
    count = 36
    data = _coco_clips(count, channels=spatial_dims(channels) + (channels == "xy_score"))
    archive = tmp_path / "mine.npz"
    split = np.array(["train"] * 24 + ["test"] * 12)
    np.savez(archive, data=data, labels=np.arange(count) % 3, split=split, layout=np.array("coco17"),
             channels=np.array(channels))  # fmt: skip
    prepared = tmp_path / "prepared"
    assert main(["prepare", "convert", str(archive), str(prepared)]) == 0
    assert load_split(prepared / "train").channels == channels
    common = [
        f"data.root={prepared}",
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.transform.flip_prob=0.5",
        "data.transform.shear=0.2",
        "data.batch_size=8",
        "training.epochs=1",
        "training.progress_bar=false",
    ]
    sets = [arg for item in common for arg in ("--set", item)]
    assert main(["pretrain", *sets, "--output-dir", str(tmp_path / "pre")]) == 0
    pretrained = tmp_path / "pre" / "best.pt"
    finetune = ["finetune", *sets, "--set", f"finetune.pretrained={pretrained}"]
    assert main([*finetune, "--output-dir", str(tmp_path / "ft")]) == 0
    one = tmp_path / "one.npz"
    np.savez(
        one, data=data[:2], labels=np.zeros(2, int), layout=np.array("coco17"), channels=np.array(channels)
    )
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "ft" / "best.pt"), str(one)]) == 0
    assert "class_" in capsys.readouterr().out
    if importlib.util.find_spec("onnxscript") is not None:  # the optional ONNX exporter
        exported = ["export", str(tmp_path / "ft" / "best.pt"), "--format", "onnx", "--check", str(one)]
        assert main([*exported, "--out", str(tmp_path / "model.onnx")]) == 0
    pictures = tmp_path / "viz"
    assert main(["visualize", str(pretrained), "--sample", "0", "--data-root", str(prepared),
                 "--output-dir", str(pictures), "--gif-frames", "3"]) == 0  # fmt: skip
    assert sorted(p.suffix for p in pictures.iterdir()) == [".gif", ".png", ".png"]


def test_shear_moves_x_along_y_and_leaves_y():
    data = _coco_clips(4)
    base = dict(num_frames=16, crop_range=(1.0, 1.0), min_crop_frames=16, rotation=0.0)
    plain = _train(TransformConfig(**base), data, "xy")
    sheared = _train(TransformConfig(**base, shear=0.3), data, "xy")
    assert np.allclose(sheared[:, 1], plain[:, 1])
    amount = (sheared[:, 0] - plain[:, 0]) / np.where(plain[:, 1] == 0, 1, plain[:, 1])  # s per sample
    per_sample = amount.reshape(4, -1)
    assert np.allclose(per_sample, per_sample[:, :1], atol=1e-4) and (np.abs(per_sample[:, 0]) <= 0.3).all()
    assert TransformConfig(**base, shear=0.3).draws_needed == 8
