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
