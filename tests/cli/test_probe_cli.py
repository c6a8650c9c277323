"""``skeletonmae probe``: pre-training and fine-tuning checkpoints, raw baseline, feature files,
k-NN alone, JSON, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from cli_runner import run_cli  # noqa: E402
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: E402,F401
from test_knn import reference_knn_accuracy  # noqa: E402

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


def _embed_splits(models, folder: Path) -> dict[str, Path]:
    paths = {split: folder / f"{split}.npy" for split in ("train", "test")}
    for split, path in paths.items():
        argv = [
            "embed",
            models.nw_finetune,
            models.nw_dataset,
            "--split",
            split,
            "--pool",
            "mean",
            "--out",
            path,
        ]
        assert run_cli(argv, capsys=None) == 0
    return paths


def test_probe_of_feature_files_equals_probe_of_the_checkpoint(models, tmp_path, capsys):
    files = _embed_splits(models, tmp_path)
    capsys.readouterr()
    from_files = ["--train-features", files["train"], "--test-features", files["test"]]
    code, stdout, _ = run_cli(["probe", *from_files, "--json", *FAST], capsys)
    assert code == 0
    summary = json.loads(stdout)
    (row,) = summary["results"]
    code, stdout, _ = run_cli(
        ["probe", models.nw_finetune, "--data", models.nw_dataset, "--json", *FAST], capsys
    )
    (direct,) = json.loads(stdout)["results"]
    assert code == 0 and row["features"] == "file" and direct["features"] == "encoder"
    assert {**row, "features": "encoder"} == direct  # k-NN and linear probe alike
    assert (summary["train_split"], summary["test_split"]) == ("train", "test")
    assert summary["num_classes"] == 10 and row["linear_top1"] is not None
    # the k-NN numbers are those of the independent reference on the embedded features
    train_info = json.loads(files["train"].with_suffix(".json").read_text())
    test_info = json.loads(files["test"].with_suffix(".json").read_text())
    top1, top5 = reference_knn_accuracy(
        np.load(files["train"]), train_info["labels"], np.load(files["test"]), test_info["labels"], 10, k=5
    )
    assert row["knn_top1"] == pytest.approx(100 * top1) and row["knn_top5"] == pytest.approx(100 * top5)


def test_knn_only_skips_the_linear_probe(models, tmp_path, capsys):
    files = _embed_splits(models, tmp_path)
    capsys.readouterr()
    argv = ["probe", "--train-features", files["train"], "--test-features", files["test"], "--knn-only"]
    code, stdout, _ = run_cli([*argv, "--majority", "-k", "1"], capsys)
    assert code == 0 and "k-NN top-1 (k=1)" in stdout and "k-NN majority; no linear probe" in stdout
    assert "linear top-1" not in stdout and stdout.splitlines()[1].startswith("file")
    out = tmp_path / "knn.json"
    code, _, _ = run_cli([*argv, "-k", "200", "--standardize", "--out", out], capsys)
    (row,) = json.loads(out.read_text())["results"]
    assert code == 0 and row["knn_k"] == len(load_split(models.nw_dataset / "train"))  # clamped
    assert row["linear_top1"] is None and json.loads(out.read_text())["probe"]["knn"]["standardize"]


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


def test_probe_feature_file_errors_exit_2(models, skeleton_files, tmp_path, capsys):
    files = _embed_splits(models, tmp_path)
    capsys.readouterr()
    both = ["--train-features", files["train"], "--test-features", files["test"]]
    code, _, err = run_cli(["probe", models.nw_finetune, "--data", models.nw_dataset, *both], capsys)
    assert code == 2 and "not both" in err and "CHECKPOINT, --data" in err
    code, _, err = run_cli(["probe", "--train-features", files["train"]], capsys)
    assert code == 2 and "pass both" in err
    code, _, err = run_cli(["probe", *both, "-k", "0"], capsys)
    assert code == 2 and "k:" in err
    code, _, err = run_cli(["probe", *both, "--knn-only", "--train-views", "2"], capsys)
    assert code == 2 and "train_views" in err
    code, _, err = run_cli(["probe", models.nw_finetune], capsys)
    assert code == 2 and "--data DATASET_ROOT" in err
    loose = tmp_path / "loose.npy"  # embedded from a skeleton file: no label
    clip = skeleton_files.nw_ucla / "a01_s01_e00_v03.json"
    assert run_cli(["embed", models.nw_finetune, clip, "--out", loose]) == 0
    code, _, err = run_cli(["probe", "--train-features", loose, "--test-features", files["test"]], capsys)
    assert code == 2 and "one label >= 0 per row" in err
