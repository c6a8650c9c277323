"""Normalisation chosen at preparation (centre, scale, trim), recorded in the dataset and
the checkpoint, and applied the same way by predict to new, raw inputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from skeletonmae.cli.main import main
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.normalize import Normalization
from skeletonmae.data.store import load_split
from skeletonmae.inference.predictor import load

CENTRE = get_layout("nw_ucla20").center_joint


def _camera_samples(count: int = 24, frames: int = 20, padded: int = 30, seed: int = 0) -> np.ndarray:
    """(N, 3, padded, 20, 1): bodies far from the origin, walking along x, zero beyond ``frames``."""
    rng = np.random.default_rng(seed)
    data = np.zeros((count, 3, padded, 20, 1), np.float32)
    for i in range(count):
        body = rng.normal(size=(3, 1, 20)) * 0.3 * (1 + i % 3)
        walk = np.linspace(0, 1, frames)[None, :, None] * np.array([1.0, 0.0, 0.0])[:, None, None]
        data[i, :, :frames, :, 0] = body + walk + np.array([0.5, 1.0, 3.0])[:, None, None]
    return data


@pytest.mark.parametrize("center", ["first", "every"])
def test_centring_moves_the_centre_joint_to_the_origin_and_keeps_padding_zero(center):
    data = _camera_samples(4)
    out = Normalization(center).apply(data, np.full(4, 20), "nw_ucla20", "xyz")
    if center == "first":
        assert np.allclose(out[:, :, 0, CENTRE, 0], 0, atol=1e-6)
        assert not np.allclose(out[:, :, 10, CENTRE, 0], 0, atol=1e-3)  # the walk is kept
    else:
        assert np.allclose(out[:, :, :20, CENTRE, 0], 0, atol=1e-6)
    assert not out[:, :, 20:].any()  # padding stays exactly zero
    assert np.allclose(
        out[:, :, 5] - out[:, :, 5, CENTRE : CENTRE + 1], data[:, :, 5] - data[:, :, 5, CENTRE : CENTRE + 1]
    )


def test_scale_gives_every_body_size_one_and_leaves_a_score_alone():
    data = np.concatenate([_camera_samples(3)[:, :2], np.full((3, 1, 30, 20, 1), 0.7, np.float32)], axis=1)
    data[:, 2, 20:] = 0  # no score where there is no skeleton
    out = Normalization("first", scale=True).apply(data, np.full(3, 20), "nw_ucla20", "xy_score")
    body = out[:, :2, :20, :, 0]
    spread = body - body.mean(axis=3, keepdims=True)
    assert np.allclose(np.sqrt((spread**2).sum(axis=1).mean(axis=(1, 2))), 1.0, atol=1e-4)
    assert np.allclose(out[:, 2, :20], 0.7)


def test_prepare_records_it_and_predict_applies_it_to_raw_inputs(tmp_path: Path):
    data = _camera_samples()
    archive = tmp_path / "camera.npz"
    np.savez(archive, data=data, labels=np.arange(24) % 2, split=np.array(["train"] * 16 + ["test"] * 8))
    prepared = tmp_path / "prepared"
    command = [
        "prepare",
        "convert",
        str(archive),
        str(prepared),
        "--center",
        "first",
        "--normalize-scale",
        "--trim",
    ]
    assert main(command) == 0
    split = load_split(prepared / "train")
    assert split.data.shape[2] == 20  # trimmed to the longest sequence
    assert split.meta["normalization"] == {"center": "first", "scale": True}
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["normalization"] == {"center": "first", "scale": True}
    assert "uncentred" not in {w["code"] for w in manifest["warnings"]}
    sets = [
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.batch_size=8",
        "training.epochs=1",
        "training.progress_bar=false",
        f"data.root={prepared}",
    ]
    args = [a for s in sets for a in ("--set", s)]
    assert main(["pretrain", *args, "--output-dir", str(tmp_path / "pre")]) == 0
    pretrained = ["--set", f"finetune.pretrained={tmp_path / 'pre' / 'best.pt'}"]
    assert main(["finetune", *args, *pretrained, "--output-dir", str(tmp_path / "ft")]) == 0
    predictor = load(tmp_path / "ft" / "best.pt")
    assert predictor.model.normalization == Normalization("first", True)
    raw = predictor.probabilities([data[0, :, :20]])  # camera coordinates, as a user would pass them
    plain = dataclasses.replace(predictor.model, normalization=Normalization())
    predictor.model = plain
    assert np.allclose(predictor.probabilities([np.asarray(split.data[0])]), raw, atol=1e-5)
    assert not np.allclose(predictor.probabilities([data[0, :, :20]]), raw, atol=1e-3)
