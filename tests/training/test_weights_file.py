"""Weights files (safetensors): written from a checkpoint, read wherever a checkpoint is, by name too."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import skeletonmae.released as released
from skeletonmae.checkpoints import CheckpointError, load_checkpoint, save_weights_file
from skeletonmae.cli.main import main
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_finetune, run_pretrain


@pytest.fixture(scope="module")
def pretrained(tiny_dataset: Path, tmp_path_factory, tiny_overrides) -> Path:
    out = tmp_path_factory.mktemp("weights") / "pre"
    config, pinned = load_run_config(None, tiny_overrides(tiny_dataset, out, "training.epochs=1"))
    return run_pretrain(config, pinned_model_fields=pinned).best_checkpoint


def test_a_weights_file_keeps_the_tensors_config_and_data_facts(pretrained, tmp_path):
    payload = load_checkpoint(pretrained)
    path = save_weights_file(tmp_path / "w.safetensors", payload)
    again = load_checkpoint(path)
    assert again["model"].keys() == payload["model"].keys()
    assert all(torch.equal(again["model"][k], payload["model"][k]) for k in payload["model"])
    for key in ("stage", "epoch", "config", "extra", "best_metric", "format_version"):
        assert again[key] == payload[key], key
    assert "optimizer" not in again and path.stat().st_size < pretrained.stat().st_size


def test_export_writes_weights_a_fine_tuning_starts_from(
    pretrained, tiny_dataset, tmp_path, tiny_overrides, capsys
):
    out = tmp_path / "pre.safetensors"
    assert main(["export", str(pretrained), "--format", "safetensors", "--out", str(out)]) == 0
    assert "re-read: every tensor equal" in capsys.readouterr().out
    config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "ft", f"finetune.pretrained={out}")
    )
    from_file = run_finetune(config, pinned_model_fields=pinned)
    config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "ft2", f"finetune.pretrained={pretrained}")
    )
    from_checkpoint = run_finetune(config, pinned_model_fields=pinned)
    assert from_file.history == from_checkpoint.history  # the same encoder, the same run


def test_a_released_name_stands_for_its_file(pretrained, tmp_path, monkeypatch):
    monkeypatch.setattr(released, "RELEASE_DIR", tmp_path)
    save_weights_file(tmp_path / "tiny-base.safetensors", load_checkpoint(pretrained))
    assert released.released_names() == ("tiny-base",)
    assert load_checkpoint("tiny-base")["stage"] == "pretrain"
    with pytest.raises(CheckpointError, match=r"nope: checkpoint not found; .* released model \(tiny-base\)"):
        load_checkpoint("nope")
    (tmp_path / "broken.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(CheckpointError, match="broken.safetensors: cannot be read"):
        load_checkpoint(tmp_path / "broken.safetensors")
