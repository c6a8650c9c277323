"""``skeletonmae probe``: pre-training and fine-tuning checkpoints, raw baseline, JSON, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from cli_runner import run_cli  # noqa: E402
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: E402,F401

from skeletonmae.config import dump_yaml  # noqa: E402
from skeletonmae.data.store import load_split  # noqa: E402
from skeletonmae.inference.checkpoint_model import load_inference_model  # noqa: E402

FAST = ["--epochs", "3", "--probe-batch-size", "8", "-k", "5"]


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def test_probe_a_pretraining_checkpoint_with_baselines_writes_json(models, tmp_path, capsys):
    out = tmp_path / "probe.json"
    code, stdout, _ = run_cli(
        [
            "probe",
            models.nw_pretrain,
            "--data",
            models.nw_dataset,
            "--features",
            "encoder",
            "raw",
            "--random-init",
            "--out",
            out,
            *FAST,
        ],
        capsys,
    )
    assert code == 0 and "k-NN top-1 (k=5)" in stdout and "linear best (optimistic)" in stdout
    summary = json.loads(out.read_text())
    assert summary["stage"] == "pretrain" and summary["probe"]["epochs"] == 3
    assert (summary["train_split"], summary["test_split"]) == ("train", "test")
    rows = summary["results"]
    assert [row["features"] for row in rows] == ["encoder", "random-init", "raw"]
    assert rows[0]["feature_dim"] == 32 and rows[0]["knn_k"] == 5
    assert rows[0]["num_test"] == len(load_split(models.nw_dataset / "test"))
    for row in rows:
        assert 0 <= row["linear_top1"] <= row["linear_best_top1_optimistic"] <= 100
        assert 0 <= row["knn_top1"] <= 100


def test_probe_a_finetune_checkpoint_and_raw_features_from_a_config(models, tmp_path, capsys):
    code, stdout, _ = run_cli(
        [
            "probe",
            models.nw_finetune,
            "--data",
            models.nw_dataset,
            "--train-split",
            "train",
            "--test-split",
            "test",
            *FAST,
        ],
        capsys,
    )
    assert code == 0 and stdout.splitlines()[1].startswith("encoder")
    config = tmp_path / "run.yaml"
    dump_yaml(load_inference_model(models.nw_pretrain).config, config)
    out = tmp_path / "raw.json"
    code, _, _ = run_cli(
        ["probe", "--features", "raw", "--config", config, "--data", models.nw_dataset, "--out", out, *FAST],
        capsys,
    )
    assert code == 0
    summary = json.loads(out.read_text())
    assert summary["checkpoint"] is None and summary["results"][0]["feature_dim"] == 3 * 12 * 20


def test_probe_errors_exit_2(models, capsys):
    code, _, err = run_cli(["probe", "--data", models.nw_dataset], capsys)
    assert code == 2 and "need CHECKPOINT" in err
    code, _, err = run_cli(["probe", "--features", "raw", "--data", models.nw_dataset], capsys)
    assert code == 2 and "--config" in err
    code, _, err = run_cli(
        ["probe", models.nw_pretrain, "--data", models.nw_dataset, "--test-split", "val"], capsys
    )
    assert code == 2 and "no prepared split 'val'" in err
    code, _, err = run_cli(
        ["probe", models.nw_pretrain, "--data", models.nw_dataset, "--epochs", "0"], capsys
    )
    assert code == 2 and "epochs" in err
