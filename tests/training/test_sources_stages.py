"""Pre-training on unlabelled data and on several datasets at once, end to end (a few steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_dataset
from skeletonmae.run_config import load_run_config
from skeletonmae.saved_run import run_config_of
from skeletonmae.training.stages import run_finetune, run_pretrain


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory) -> Path:
    """16 + 4 unlabelled Kinect-v1 clips (labels -1, no class names), as `prepare convert` writes them."""
    rng = np.random.default_rng(7)
    data = rng.normal(size=(20, 3, 30, 20, 1)).astype(np.float32) * 0.3
    samples = SkeletonSamples.from_arrays(data, np.full(20, -1), layout="nw_ucla20", class_names=())
    root = tmp_path_factory.mktemp("unlabelled") / "corpus"
    write_dataset(root, {"train": samples.select(np.arange(16)), "test": samples.select(np.arange(16, 20))})
    return root


def test_an_unlabelled_dataset_pretrains_and_refuses_fine_tuning(unlabelled, tmp_path, tiny_overrides):
    config, pinned = load_run_config(None, tiny_overrides(unlabelled, tmp_path / "pt", "training.epochs=1"))
    result = run_pretrain(config, pinned_model_fields=pinned)
    assert result.config.model.num_classes == 0
    assert load_checkpoint(result.best_checkpoint)["extra"]["class_names"] == []
    config, pinned = load_run_config(None, tiny_overrides(unlabelled, tmp_path / "ft"))
    with pytest.raises(ValueError, match=rf"{unlabelled / 'train'}: 16 of 16 training samples have no label"):
        run_finetune(config, pinned_model_fields=pinned)


def test_several_roots_with_weights_pretrain_then_fine_tune_on_one(
    unlabelled, tiny_dataset, tmp_path, tiny_overrides
):
    roots = f"data.root=[{unlabelled},{tiny_dataset}]"
    extra = (roots, "data.root_weights=[1,3]", "data.val_split=dataset/test", "training.epochs=1")
    config, pinned = load_run_config(None, tiny_overrides(unlabelled, tmp_path / "pt", *extra))
    result = run_pretrain(config, pinned_model_fields=pinned)
    # 16 + 24 rows per epoch at batch 4; the labelled dataset's 3 classes reach the model
    assert load_checkpoint(result.last_checkpoint)["global_step"] == 40 // 4
    assert result.config.model.num_classes == 3
    config, pinned = load_run_config(None, tiny_overrides(unlabelled, tmp_path / "ft", roots))
    with pytest.raises(ValueError, match="16 of 40 training samples have no label"):
        run_finetune(config, pinned_model_fields=pinned)
    finetune = tiny_overrides(tiny_dataset, tmp_path / "ft2", f"finetune.pretrained={result.best_checkpoint}")
    config, pinned = load_run_config(None, finetune)
    assert run_finetune(config, pinned_model_fields=pinned).best_metric is not None
    # scored on one of its datasets: the saved weights belong to the saved roots and are dropped
    saved = load_checkpoint(result.best_checkpoint)
    assert run_config_of(result.best_checkpoint, saved).data.root_weights == (1.0, 3.0)
    moved = run_config_of(result.best_checkpoint, saved, [f"data.root={tiny_dataset}"])
    assert moved.data.roots == (tiny_dataset,) and moved.data.root_weights is None
    reweighted = [f"data.root=[{tiny_dataset},{unlabelled}]", "data.root_weights=[2,1]"]
    assert run_config_of(result.best_checkpoint, saved, reweighted).data.root_weights == (2.0, 1.0)


def test_evaluate_scores_a_pretraining_on_another_dataset(
    unlabelled, tiny_dataset, tmp_path, tiny_overrides, capsys
):
    """An unlabelled pre-training is scored on a labelled dataset's test split (its class count does
    not have to match), with the predictors that learn nothing on the same masks."""
    import json

    from skeletonmae.cli.main import main

    config, pinned = load_run_config(None, tiny_overrides(unlabelled, tmp_path / "pt", "training.epochs=1"))
    best = run_pretrain(config, pinned_model_fields=pinned).best_checkpoint
    args = [
        "evaluate",
        "--checkpoint",
        str(best),
        "--set",
        f"data.root={tiny_dataset}",
        "--output-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert "masked-token MSE" in capsys.readouterr().out
    report = json.loads((tmp_path / "eval_test.json").read_text())
    assert report["samples"] == 12 and report["split"] == "test"
    assert report["val_interp_ratio"] == pytest.approx(report["val_masked_mse"] / report["val_interp_mse"])
    assert report["val_interp_mse"] > 0 and report["val_static_mse"] > 0
