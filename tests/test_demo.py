"""The demo fine-tunes the released weights and scratch on generated data and prints what they made."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.cli.main import main
from skeletonmae.demo import DemoConfig, find_nw_ucla, finetune_config, weights_config
from skeletonmae.run_config import load_run_config

CONFIGS = Path(__file__).parents[1] / "configs"


def test_demo_prints_the_runs_it_made(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--synthetic", "--synthetic-samples", "120", "--finetune-epochs", "1"]
    args += ["--label-fraction", "0.5", "--label-seeds", "1", "2", "--output-dir", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "generated NW-UCLA-format data" in printed and "weights: kinect20-base (released;" in printed
    rows = {
        int(m[1]): (m[2], m[3], m[4]) for m in re.finditer(r"^  (\d+) +(\S+) +(\S+) +(\S+)$", printed, re.M)
    }
    assert sorted(rows) == [1, 2]
    for seed, (pretrained, scratch, gain) in rows.items():
        best = {
            init: 100 * load_checkpoint(out / f"{init}-{seed}" / "best.pt")["best_metric"]
            for init in ("pretrained", "scratch")
        }
        assert (pretrained, scratch) == (f"{best['pretrained']:.1f}", f"{best['scratch']:.1f}")
        assert gain == f"{best['pretrained'] - best['scratch']:+.1f}"
        config, _ = load_run_config(out / f"pretrained-{seed}" / "config.yaml")
        assert (config.data.label_seed, config.training.seed, str(config.finetune.pretrained)) == (
            seed,
            seed,
            str(Path(__file__).parents[1] / "src/skeletonmae/released/kinect20-base.safetensors"),
        )
    assert re.search(r"^  mean \+- std .* [+-]\d+\.\d \+- \d+\.\d$", printed, re.M)
    pictures = list((out / "reconstruction").glob("*.png"))
    assert pictures and all(p.stat().st_size > 5000 for p in pictures)
    assert list((out / "reconstruction").glob("*.gif"))


def test_demo_rejects_a_missing_nw_ucla_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="all_sqe"):
        find_nw_ucla(tmp_path / "nope")


def test_demo_config_validates():
    with pytest.raises(ValueError, match="label_fraction"):
        DemoConfig(label_fraction=0.0)
    with pytest.raises(ValueError, match="label_seeds"):
        DemoConfig(label_seeds=())


def test_demo_fine_tunes_with_the_shipped_recipe(tmp_path):
    """The demo's runs read configs/nw-ucla/finetune-base.yaml and take the released weights' model
    (the recipe's transform is the weights'); the pre-trained run adds the recommended layer decay."""
    shipped, _ = load_run_config(CONFIGS / "nw-ucla" / "finetune-base.yaml")
    weights = weights_config("kinect20-base")
    for pretrained in ("kinect20-base", None):
        demo = finetune_config(DemoConfig(output_dir=tmp_path), tmp_path, weights, 1, pretrained)
        assert demo.data.transform == shipped.data.transform == weights.data.transform
        assert demo.model.stages == weights.model.stages
        assert demo.optim == shipped.optim and demo.data.batch_size == shipped.data.batch_size
        assert demo.schedule == shipped.schedule
        assert demo.finetune.layer_decay == (0.75 if pretrained else 1.0)
