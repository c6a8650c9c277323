"""``skeletonmae visualize`` on a model pre-trained for one epoch on real NW-UCLA sequences."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skeletonmae.cli import visualize as visualize_cli
from skeletonmae.data.prepare import prepare_nw_ucla
from skeletonmae.inference.reconstruction import (
    load_mae_checkpoint,
    reconstruct_sample,
)
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_pretrain

# Three sequences per view of two actions: views 1 and 2 train, view 3 tests.
NAMES = [
    f"a{action:02d}_s{subject:02d}_e00_v{view:02d}"
    for action in (1, 4)
    for view in (1, 2, 3)
    for subject in (1, 2, 3)
]


@pytest.fixture(scope="module")
def checkpoint(skeleton_files, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nw-ucla")
    raw = root / "raw"
    raw.mkdir()
    for name in NAMES:
        source = skeleton_files.nw_ucla / f"{name}.json"
        (raw / source.name).symlink_to(source)
    prepare_nw_ucla(raw, root / "prepared", progress=False)
    overrides = [
        f"data.root={json.dumps(str(root / 'prepared'))}",
        "model.preset=cpu-small",
        "data.batch_size=4",
        "data.num_workers=0",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=6",
        "training.epochs=1",
        "training.progress_bar=false",
        "training.device=cpu",
        f"output_dir={json.dumps(str(root / 'pretrain'))}",
    ]
    config, pinned = load_run_config(None, overrides)
    return run_pretrain(config, pinned_model_fields=pinned).best_checkpoint


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="skeletonmae")
    visualize_cli.register(parser.add_subparsers(dest="command"))
    namespace = parser.parse_args(["visualize", *argv])
    return namespace.func(namespace)


def test_visualize_writes_png_gif_and_heatmap(checkpoint, tmp_path, capsys):
    name = "a04_s02_e00_v03"
    code = _run(
        str(checkpoint), "--sample", name, "--frames", "3", "--gif-frames", "5", "--output-dir", str(tmp_path)
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"{name} (walk around)" in out and "(5 frames)" in out
    stem = f"{name}_random-f0.5-j0.5_seed0"  # the config's masking is in the name
    with Image.open(tmp_path / f"{stem}.png") as image:
        pixels = np.asarray(image.convert("L"))
        assert image.size[0] > image.size[1] * 0.7 and pixels.std() > 5  # drawn, not blank
    with Image.open(tmp_path / f"{stem}.gif") as image:
        assert image.n_frames == 5
    assert (tmp_path / f"{stem}_error.png").stat().st_size > 5000
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_the_mask_follows_the_checkpoint_config_and_the_seed(checkpoint):
    model, config, arrays = load_mae_checkpoint(checkpoint, ["mask.frame_ratio=0.5", "mask.strategy=fixed"])
    first = reconstruct_sample(model, config, arrays, 0, seed=1)
    again = reconstruct_sample(model, config, arrays, 0, seed=1)
    other = reconstruct_sample(model, config, arrays, 0, seed=2)
    assert first.mask.shape == (12, 20) and first.original.shape == (12, 20, 3)
    removed_frames = first.mask.all(axis=1)
    assert removed_frames.sum() == 6  # frame ratio 0.5 of 12 frames
    kept = first.mask[~removed_frames]
    assert (kept == kept[0]).all() and kept[0].sum() == 10  # fixed: the same 10 of 20 joints
    assert np.array_equal(first.mask, again.mask) and not np.array_equal(first.mask, other.mask)
    assert np.isfinite(first.masked_mse) and first.joint_error.shape == (12, 20)
    visible = first.mask < 0.5
    assert np.array_equal(first.pasted[visible], first.original[visible])  # MAE's picture
    assert np.array_equal(first.pasted[~visible], first.reconstruction[~visible])


def test_bad_sample_and_checkpoint_are_reported(checkpoint, tmp_path, caplog):
    assert _run(str(checkpoint), "--sample", "a99_s01_e00_v03", "--output-dir", str(tmp_path)) == 2
    assert "no sample named 'a99_s01_e00_v03'" in caplog.text
    assert _run(str(checkpoint), "--sample", "100", "--output-dir", str(tmp_path)) == 2
    assert "out of range" in caplog.text
    assert _run(str(tmp_path / "none.pt"), "--sample", "0") == 2
    assert "checkpoint not found" in caplog.text


@pytest.mark.parametrize(
    "option, value", [("--fps", "0"), ("--frames", "0"), ("--gif-frames", "-3"), ("--fps", "x")]
)
def test_counts_and_rates_must_be_positive_at_parsing(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _run(str(tmp_path / "best.pt"), "--sample", "0", option, value)
    assert exit_info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # rejected before anything was written


def test_a_name_from_another_split_names_both_splits(checkpoint, tmp_path, caplog):
    assert _run(str(checkpoint), "--sample", "a01_s01_e00_v01", "--output-dir", str(tmp_path)) == 2
    assert "no sample named 'a01_s01_e00_v01' in split 'test'" in caplog.text
    assert "it is in split 'train': pass --split train" in caplog.text
    caplog.clear()
    assert (
        _run(
            str(checkpoint),
            "--sample",
            "a01_s01_e00_v01",
            "--split",
            "train",
            "--frames",
            "1",
            "--gif-frames",
            "1",
            "--output-dir",
            str(tmp_path),
        )
        == 0
    )


def test_a_relative_data_root_missing_from_here_is_named_with_the_fix(
    checkpoint, tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    assert _run(str(checkpoint), "--sample", "0", "--set", "data.root=data/prepared/nw-ucla") == 2
    assert f"dataset folder not found at {tmp_path.resolve() / 'data/prepared/nw-ucla'}" in caplog.text
    assert "relative to the current directory" in caplog.text and "--data-root" in caplog.text


def test_other_masking_writes_other_files(checkpoint, tmp_path):
    options = ["--sample", "0", "--frames", "1", "--gif-frames", "1", "--output-dir", str(tmp_path)]
    assert _run(str(checkpoint), *options) == 0
    assert (
        _run(str(checkpoint), *options, "--set", "mask.joint_ratio=0.25", "--set", "mask.strategy=fixed") == 0
    )
    name = "a01_s01_e00_v03"
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        f"{name}_fixed-f0.5-j0.25_seed0.png",
        f"{name}_fixed-f0.5-j0.25_seed0_error.png",
        f"{name}_random-f0.5-j0.5_seed0.png",
        f"{name}_random-f0.5-j0.5_seed0_error.png",
    ]


def test_with_loss_on_masked_visible_joints_are_blank_in_the_heat_map(checkpoint, tmp_path, monkeypatch):
    from skeletonmae.viz import skeleton

    drawn = {}
    draw = skeleton.draw_error_heatmap

    def keep(error, path, **kwargs):
        drawn.update(error=error, **kwargs)
        return draw(error, path, **kwargs)

    monkeypatch.setattr(skeleton, "draw_error_heatmap", keep)
    assert (
        _run(
            str(checkpoint),
            "--sample",
            "0",
            "--frames",
            "1",
            "--gif-frames",
            "1",
            "--set",
            "mask.loss_on=masked",
            "--output-dir",
            str(tmp_path),
        )
        == 0
    )
    model, config, arrays = load_mae_checkpoint(checkpoint, ["mask.loss_on=masked"])
    removed = reconstruct_sample(model, config, arrays, 0, seed=0).mask > 0.5
    error = drawn["error"]
    assert np.isnan(error[~removed]).all() and np.isfinite(error[removed]).all()
    assert "blank" in drawn["label"] and "blank" in drawn["title"]
