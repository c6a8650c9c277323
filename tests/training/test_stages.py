"""Each stage end to end on a tiny prepared dataset with the real models (a few steps each)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_finetune, run_linear, run_pretrain, seed_everything

STEPS_PER_EPOCH = 6  # 24 training samples, batch 4


def initial_head(config) -> torch.Tensor:
    """The head weights a run of ``config`` started from: a stage seeds with ``training.seed``, then
    builds the classifier (loading a pre-trained encoder leaves the head as built)."""
    seed_everything(config.training.seed)
    return SkeletonClassifier(config.model).state_dict()["head.fc.weight"]


@pytest.fixture(scope="module")
def pretrained(tiny_dataset: Path, tmp_path_factory) -> Path:
    """A 2-epoch pre-training run folder (shared by the tests below)."""
    run_dir = tmp_path_factory.mktemp("pretrain") / "run"
    overrides = [
        f"data.root={tiny_dataset}",
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.batch_size=4",
        "data.num_workers=0",
        "training.epochs=2",
        "training.progress_bar=false",
        "training.device=cpu",
        f"output_dir={run_dir}",
    ]
    config, pinned = load_run_config(None, overrides)
    run_pretrain(config, pinned_model_fields=pinned)
    return run_dir


def test_pretrain_fills_the_run_folder(pretrained: Path):
    names = {p.name for p in pretrained.iterdir()}
    assert {"config.yaml", "env.json", "metrics.csv", "curves.png", "last.pt", "best.pt"} <= names
    first_line = (pretrained / "config.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# skeletonmae pretrain --config {pretrained / 'config.yaml'}"
    resolved, _ = load_run_config(pretrained / "config.yaml")
    assert (resolved.model.num_joints, resolved.model.num_classes) == (20, 3)  # from the data
    env = json.loads((pretrained / "env.json").read_text())
    assert env["torch"] == torch.__version__ and env["seed"] == 1 and env["world_size"] == 1
    assert {"python", "numpy", "git_commit", "hostname"} <= set(env)
    last = load_checkpoint(pretrained / "last.pt")
    assert (last["stage"], last["epoch"], last["global_step"]) == ("pretrain", 2, 2 * STEPS_PER_EPOCH)
    assert {"optimizer", "scheduler", "scaler", "rng", "best_metric"} <= set(last)
    assert last["extra"]["class_names"] == ["wave", "nod", "sway"]
    assert all(key.startswith(("encoder.", "decoder.")) for key in last["model"])
    lines = (pretrained / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",")[:4] == ["epoch", "train_loss", "lr", "val_loss"] and len(lines) == 3
    val_losses = [float(line.split(",")[3]) for line in lines[1:]]
    best = load_checkpoint(pretrained / "best.pt")
    assert best["best_metric"] == pytest.approx(min(val_losses))
    assert best["epoch"] == val_losses.index(min(val_losses)) + 1
    # The predictors that learn nothing stand beside the model in every validation row.
    header = lines[0].split(",")
    for line in lines[1:]:
        row = dict(zip(header, map(float, line.split(","))))
        assert row["val_static_mse"] > 0 and row["val_interp_mse"] > 0
        assert row["val_interp_ratio"] == pytest.approx(row["val_masked_mse"] / row["val_interp_mse"])


def test_pretrain_fraction_subsets_pretraining_only(tiny_dataset, tmp_path, tiny_overrides, caplog):
    extra = ("data.pretrain_fraction=0.5", "data.label_fraction=0.25", "training.epochs=1")
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "pt", *extra))
    with caplog.at_level(logging.INFO):
        result = run_pretrain(config, pinned_model_fields=pinned)
    assert "pretrain reads 12 of 24 training samples" in caplog.text  # label_fraction is not read
    assert load_checkpoint(result.last_checkpoint)["global_step"] == 12 // 4


def test_finetune_from_pretrained_on_a_label_fraction(
    pretrained, tiny_dataset, tmp_path, tiny_overrides, caplog
):
    config, pinned = load_run_config(
        None,
        tiny_overrides(
            tiny_dataset,
            tmp_path / "ft",
            f"finetune.pretrained={pretrained / 'best.pt'}",
            "data.label_fraction=0.5",
        ),
    )
    with caplog.at_level(logging.INFO):
        result = run_finetune(config, pinned_model_fields=pinned)
    assert "loaded" in caplog.text and "encoder tensors" in caplog.text
    assert "12 of 24 training samples" in caplog.text
    last = load_checkpoint(result.last_checkpoint)
    assert last["global_step"] == 2 * 3  # 12 labelled samples, batch 4
    assert result.best_metric_name == "val_top1"
    assert result.best_metric == max(row["val_top1"] for row in result.history)
    assert {"train_top1", "val_top1", "val_top5", "val_loss"} <= set(result.history[-1])
    assert (tmp_path / "ft" / "curves.png").stat().st_size > 0


def test_finetune_with_layer_decay_resumes_with_the_scaled_group_rates(
    pretrained, tiny_dataset, tmp_path, tiny_overrides
):
    extra = (f"finetune.pretrained={pretrained / 'best.pt'}", "finetune.layer_decay=0.5", "training.epochs=1")
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "ld", *extra))
    result = run_finetune(config, pinned_model_fields=pinned)
    groups = load_checkpoint(result.last_checkpoint)["optimizer"]["param_groups"]
    blocks = len(config.model.block_specs)
    assert len(groups) == blocks + 2
    initial = [g["initial_lr"] for g in groups]
    assert initial == pytest.approx([config.optim.lr * 0.5 ** (blocks + 1 - k) for k in range(blocks + 2)])
    assert result.history[-1]["lr"] == pytest.approx(max(g["lr"] for g in groups))  # the head's rate
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "ld", *extra[:2]))
    resumed = run_finetune(config, resume=True, pinned_model_fields=pinned)  # a 2nd epoch
    assert len(resumed.history) == 2
    with pytest.raises(ValueError, match="layer_decay"):
        load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "x", "finetune.layer_decay=0"))


def test_lp_ft_holds_the_encoder_for_its_first_epochs_then_fine_tunes_it(
    pretrained, tiny_dataset, tmp_path, tiny_overrides
):
    extra = (
        f"finetune.pretrained={pretrained / 'best.pt'}",
        "finetune.frozen_encoder_epochs=1",
        "training.epochs=2",
        "training.snapshot_epochs=[1]",
    )
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "lpft", *extra))
    result = run_finetune(config, pinned_model_fields=pinned)
    encoder = {
        k: v for k, v in load_checkpoint(pretrained / "best.pt")["model"].items() if k.startswith("encoder.")
    }
    after_probe = load_checkpoint(result.run_dir / "epoch-0001.pt")["model"]
    for key, value in encoder.items():  # weights and BatchNorm statistics held in epoch 1
        assert torch.equal(after_probe[key], value), key
    assert not torch.equal(after_probe["head.fc.weight"], initial_head(result.config))  # the head learned
    final = result.model.state_dict()
    assert any(not torch.equal(final[key], value) for key, value in encoder.items())  # then the encoder
    assert not result.model.encoder_held
    config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "all", *extra[:2], "training.epochs=1")
    )
    with pytest.raises(ValueError, match="leaves no epoch of fine-tuning"):
        run_finetune(config, pinned_model_fields=pinned)


def test_finetune_from_scratch_and_bad_pretrained_checkpoint(tiny_dataset, tmp_path, tiny_overrides):
    config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "scratch", "training.epochs=1")
    )
    result = run_finetune(config, pinned_model_fields=pinned)
    assert result.best_metric is not None and 0.0 <= result.best_metric <= 1.0
    config, pinned = load_run_config(
        None,
        tiny_overrides(tiny_dataset, tmp_path / "wrong", f"finetune.pretrained={result.best_checkpoint}"),
    )
    with pytest.raises(ValueError, match=r"best\.pt: pre-trained state dict"):
        run_finetune(config, pinned_model_fields=pinned)  # a classifier is not a pretrain run


def test_linear_trains_the_head_only(pretrained, tiny_dataset, tmp_path, tiny_overrides):
    config, pinned = load_run_config(
        None,
        tiny_overrides(tiny_dataset, tmp_path / "linear", f"finetune.pretrained={pretrained / 'best.pt'}"),
    )
    result = run_linear(config, pinned_model_fields=pinned)
    encoder = {
        k[len("encoder.") :]: v
        for k, v in load_checkpoint(pretrained / "best.pt")["model"].items()
        if k.startswith("encoder.")
    }
    trained = result.model.state_dict()
    for key, value in encoder.items():  # weights and BatchNorm running statistics untouched
        assert torch.equal(trained[f"encoder.{key}"], value), key
    assert not torch.equal(trained["head.fc.weight"], initial_head(result.config))  # the head learned
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "nolin"))
    with pytest.raises(ValueError, match="linear evaluation needs finetune.pretrained"):
        run_linear(config, pinned_model_fields=pinned)


def test_linear_with_feature_norm_trains_the_norm_and_reloads_for_inference(
    pretrained, tiny_dataset, tmp_path, tiny_overrides
):
    from skeletonmae.inference.checkpoint_model import load_inference_model

    config, pinned = load_run_config(
        None,
        tiny_overrides(
            tiny_dataset,
            tmp_path / "mamp",
            f"finetune.pretrained={pretrained / 'best.pt'}",
            "finetune.feature_norm=true",
            "training.epochs=1",
        ),
    )
    result = run_linear(config, pinned_model_fields=pinned)
    weights = load_checkpoint(result.best_checkpoint)["model"]
    assert int(weights["head.norm.num_batches_tracked"]) == STEPS_PER_EPOCH
    assert "head.norm.weight" not in weights  # affine=False
    loaded = load_inference_model(result.best_checkpoint)
    assert loaded.has_head and isinstance(loaded.classifier.head.norm, torch.nn.BatchNorm1d)
    x = torch.randn(2, 3, 12, 20, 1)
    result.model.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.classifier(x), result.model(x), atol=1e-5)


def test_run_folder_guards(pretrained, tiny_dataset, tmp_path, tiny_overrides):
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, pretrained))
    with pytest.raises(FileExistsError, match="already holds a run.*--resume"):
        run_pretrain(config, pinned_model_fields=pinned)
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        run_pretrain(config, resume=True, pinned_model_fields=pinned)
    config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "x", "data.train_split=training")
    )
    with pytest.raises(FileNotFoundError, match=r"split 'training'.*available splits: \['test', 'train'\]"):
        run_pretrain(config, pinned_model_fields=pinned)


def test_gradient_accumulation_and_bf16_classifier(tiny_dataset, tmp_path, tiny_overrides):
    config, pinned = load_run_config(
        None,
        tiny_overrides(
            tiny_dataset,
            tmp_path / "amp",
            "training.amp=bf16",
            "training.grad_accumulation=2",
            "training.epochs=1",
        ),
    )
    result = run_finetune(config, pinned_model_fields=pinned)
    # data.batch_size is the batch per optimiser step: 2 micro-batches of 2, still 6 steps
    assert load_checkpoint(result.last_checkpoint)["global_step"] == STEPS_PER_EPOCH
    assert all(torch.isfinite(v).all() for v in result.model.state_dict().values() if v.is_floating_point())


def test_compile_option_wraps_the_model_and_checkpoints_stay_plain(
    tiny_dataset, tmp_path, tiny_overrides, monkeypatch
):
    compiled = []

    class FakeCompiled(torch.nn.Module):  # what torch.compile returns: a wrapper with _orig_mod
        def __init__(self, module):
            super().__init__()
            self._orig_mod = module

        def forward(self, *args, **kwargs):
            return self._orig_mod(*args, **kwargs)

    def fake_compile(module):
        compiled.append(module)
        return FakeCompiled(module)

    monkeypatch.setattr(torch, "compile", fake_compile)
    config, pinned = load_run_config(
        None,
        tiny_overrides(
            tiny_dataset,
            tmp_path / "compiled",
            "training.compile=true",
            "training.epochs=1",
            "training.limit_train_steps=2",
        ),
    )
    result = run_pretrain(config, pinned_model_fields=pinned)
    assert len(compiled) == 1
    keys = load_checkpoint(result.last_checkpoint)["model"].keys()
    assert not any("_orig_mod" in key for key in keys)


def test_worker_processes_do_not_change_the_result(tiny_dataset, tmp_path, tiny_overrides):
    results = []
    for workers in (0, 2):
        config, pinned = load_run_config(
            None,
            tiny_overrides(
                tiny_dataset,
                tmp_path / f"workers{workers}",
                f"data.num_workers={workers}",
                "training.epochs=1",
                "training.limit_train_steps=3",
            ),
        )
        results.append(run_finetune(config, pinned_model_fields=pinned).model.state_dict())
    for key, value in results[0].items():
        assert torch.equal(value, results[1][key]), key


def test_load_run_names_the_checkpoint_for_a_wrong_stage_and_a_misfit(pretrained, tiny_dataset, tmp_path):
    from skeletonmae.saved_run import bind_run, load_run

    best = pretrained / "best.pt"
    with pytest.raises(ValueError, match=r"best\.pt: a 'pretrain' checkpoint has no classifier"):
        load_run(best, stages=("finetune",), wrong_stage="has no classifier")
    run = load_run(best, [f"data.root={tiny_dataset}"])
    assert run.stage == "pretrain" and run.arrays is None
    bound = bind_run(run, "test")
    assert bound.split == "test" and bound.info.num_classes == bound.config.model.num_classes
    with pytest.raises(ValueError, match=r"best\.pt: its model does not fit"):
        bind_run(load_run(best, [f"data.root={tiny_dataset}", "model.num_joints=7"]), "test")
