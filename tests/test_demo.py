"""The demo runs end to end on generated NTU-format data and reports both accuracies."""

from __future__ import annotations

import pytest

from skeletonmae.cli.main import main
from skeletonmae.demo import DemoConfig, find_nw_ucla


def test_demo_runs_on_generated_data(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(
        [
            "demo",
            "--synthetic",
            "--synthetic-samples",
            "96",
            "--pretrain-epochs",
            "1",
            "--finetune-epochs",
            "1",
            "--label-fraction",
            "0.5",
            "--output-dir",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "SkeletonMAE pre-trained" in printed and "from scratch" in printed
    for stage in ("pretrain", "finetune", "scratch"):
        assert (out / stage / "best.pt").is_file()
        assert (out / stage / "metrics.csv").is_file()
    pictures = list((out / "reconstruction").glob("*.png"))
    assert pictures and all(p.stat().st_size > 5000 for p in pictures)
    assert list((out / "reconstruction").glob("*.gif"))


def test_demo_rejects_a_missing_nw_ucla_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="all_sqe"):
        find_nw_ucla(tmp_path / "nope")


def test_demo_config_validates():
    with pytest.raises(ValueError, match="label_fraction"):
        DemoConfig(label_fraction=0.0)


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_demo_runs_the_shipped_nw_ucla_recipe(stage, tmp_path):
    """The demo's stages are configs/nw-ucla/{pretrain,finetune}-base.yaml (schedule length aside)."""
    from pathlib import Path

    from skeletonmae.demo import stage_config
    from skeletonmae.training.run_config import load_run_config

    shipped, _ = load_run_config(Path(__file__).parents[1] / "configs" / "nw-ucla" / f"{stage}-base.yaml")
    demo = stage_config(DemoConfig(output_dir=tmp_path), tmp_path, stage)
    assert demo.data.transform == shipped.data.transform
    assert (
        demo.model.stages == shipped.model.stages and demo.model.decoder_width == shipped.model.decoder_width
    )
    assert demo.optim == shipped.optim
    if stage == "pretrain":  # (on the full grid of fine-tuning the rescale is the identity)
        assert demo.model.visible_attention_rescale == shipped.model.visible_attention_rescale
        assert demo.mask == shipped.mask
