"""Each contrastive method pre-trains a few steps in the shared loop, then fine-tunes, linear-
evaluates and few-label fine-tunes through the same path as SkeletonMAE."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.cli import train as train_cli
from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_dataset
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import RunResult, run_finetune, run_linear, run_pretrain

CLASSES = ("slow", "fast")


def _sequences(count: int, seed: int) -> SkeletonSamples:
    """NW-UCLA-shaped (20 joints, 1 person, 16 frames) clips; the class sets the swing speed."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(CLASSES)
    time = np.linspace(0.0, 1.0, 16)
    data = np.zeros((count, 3, 16, 20, 1), dtype=np.float32)  # (N, C, T, V, M)
    for index, label in enumerate(labels):
        swing = np.sin(2 * np.pi * (1 + 2 * label) * time)[None, :, None]
        data[index, ..., 0] = rng.normal(size=(3, 1, 20)) * 0.3 + 0.4 * swing
    names = tuple(f"clip{seed}_{i:02d}" for i in range(count))
    return SkeletonSamples(data, labels, names, np.full(count, 16, dtype=np.int64), "nw_ucla20", CLASSES)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contrastive") / "data"
    return write_dataset(root, {"train": _sequences(16, 0), "test": _sequences(8, 1)})


def _overrides(root: Path, output_dir: Path, *extra: str) -> list[str]:
    return [
        f"data.root={root}",
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.batch_size=8",
        "data.num_workers=0",
        "training.epochs=2",
        "training.progress_bar=false",
        "training.device=cpu",
        "training.log_every_steps=1",
        f"output_dir={output_dir}",
        *extra,
    ]


def _pretrain_overrides(method: str) -> list[str]:
    """What ``skeletonmae pretrain --method METHOD`` adds, plus a tiny queue and mining in epoch 2."""
    parser = argparse.ArgumentParser()
    train_cli.register(parser.add_subparsers())
    namespace = parser.parse_args(["pretrain", "--method", method])
    return train_cli.stage_overrides(namespace) + [
        "contrastive.queue_size=24",
        "contrastive.mining_start_epoch=1",
        "training.limit_train_steps=1",
        "training.eval_every=2",
    ]


@pytest.fixture(scope="module")
def pretrained(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """One tiny pre-training run per method (2 epochs of 1 step of 8 clips; mining in the second)."""
    runs = {}
    for method in ("aimclr", "crossclr"):
        output = tmp_path_factory.mktemp(f"pretrain-{method}")
        config, pinned = load_run_config(None, _overrides(dataset, output) + _pretrain_overrides(method))
        assert config.contrastive is not None and config.contrastive.method == method
        runs[method] = run_pretrain(config, pinned_model_fields=pinned)
    return runs


def _evaluate(runner, dataset: Path, output: Path, checkpoint: Path, *extra: str) -> RunResult:
    config, pinned = load_run_config(
        None, _overrides(dataset, output, "training.epochs=1", f"finetune.pretrained={checkpoint}", *extra)
    )
    return runner(config, pinned_model_fields=pinned)


@pytest.mark.parametrize("method", ["aimclr", "crossclr"])
def test_method_pretrains_in_the_shared_loop_and_fine_tunes(
    method: str, pretrained: dict[str, RunResult], dataset: Path, tmp_path: Path
) -> None:
    run = pretrained[method]
    assert isinstance(run.model, ContrastiveModel)
    assert len(run.history) == 2 and np.isfinite(run.history[-1]["val_loss"])
    queue = next(iter(run.model.queues.values()))
    assert int(queue.pointer) == 2 * 8 and torch.isfinite(queue.keys).all()
    payload = load_checkpoint(run.best_checkpoint)
    assert payload["config"]["contrastive"]["method"] == method
    finetuned = _evaluate(run_finetune, dataset, tmp_path / "finetune", run.best_checkpoint)
    assert 0.0 <= finetuned.history[-1]["val_top1"] <= 1.0


def test_linear_and_few_label_evaluation_start_from_the_exported_encoder(
    pretrained: dict[str, RunResult], dataset: Path, tmp_path: Path
) -> None:
    run = pretrained["crossclr"]
    payload = load_checkpoint(run.best_checkpoint)
    prefix = f"query.{payload['config']['contrastive']['export_view']}.encoder."
    linear = _evaluate(run_linear, dataset, tmp_path / "linear", run.best_checkpoint)
    weights = linear.model.encoder.state_dict()
    for key, value in weights.items():  # the frozen encoder is exactly the pre-trained one
        assert torch.equal(value, payload["model"][prefix + key]), key
    few = _evaluate(run_finetune, dataset, tmp_path / "few", run.best_checkpoint, "data.label_fraction=0.5")
    assert 0.0 <= few.history[-1]["val_top1"] <= 1.0


def test_method_skeletonmae_clears_the_contrastive_section(dataset: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    train_cli.register(parser.add_subparsers())
    overrides = train_cli.stage_overrides(parser.parse_args(["pretrain", "--method", "skeletonmae"]))
    config, _ = load_run_config(None, ["contrastive.method=aimclr", *overrides])
    assert config.contrastive is None
    with pytest.raises(SystemExit):
        parser.parse_args(["pretrain", "--method", "simclr"])


def test_contrastive_pretraining_needs_the_joint_stream(dataset: Path, tmp_path: Path) -> None:
    config, pinned = load_run_config(
        None,
        _overrides(dataset, tmp_path / "bone", "data.transform.stream=bone") + _pretrain_overrides("aimclr"),
    )
    with pytest.raises(ValueError, match="data.transform.stream=joint"):
        run_pretrain(config, pinned_model_fields=pinned)
