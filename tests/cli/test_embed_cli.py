"""``skeletonmae embed``: feature files of datasets and of skeleton files, errors.

The k-NN of feature files is tested with ``skeletonmae probe`` (test_probe_cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from cli_runner import run_cli  # noqa: E402
from inference_fixtures import TrainedModels, first_ntu_file, single_torch_thread, trained_models  # noqa: E402,F401

from skeletonmae.data.store import load_split  # noqa: E402


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def run(argv, capsys):
    return run_cli(argv, capsys)


def test_embed_every_split_of_a_dataset_from_a_pretraining_checkpoint(models, tmp_path, capsys):
    out = tmp_path / "all.npy"
    code, stdout, _ = run(
        ["embed", str(models.nw_pretrain), str(models.nw_dataset), "--out", str(out)], capsys
    )
    assert code == 0 and str(out) in stdout
    features = np.load(out)
    info = json.loads(out.with_suffix(".json").read_text())
    test, train = load_split(models.nw_dataset / "test"), load_split(models.nw_dataset / "train")
    assert features.shape == (len(test) + len(train), 32) and info["stage"] == "pretrain"
    assert info["splits"] == ["test"] * len(test) + ["train"] * len(train)
    assert info["names"] == list(test.names + train.names)
    assert info["labels"] == [int(v) for v in np.concatenate([test.labels, train.labels])]
    # --pool tuple: per tuple in time order, whose mean over tuples is the default (mean) pooling
    tuples = tmp_path / "tuples.npy"
    argv = ["embed", str(models.nw_pretrain), str(models.nw_dataset), "--out", str(tuples), "--pool", "tuple"]
    assert run(argv, capsys)[0] == 0
    per_tuple = np.load(tuples)
    assert (
        per_tuple.shape[0] == features.shape[0] and per_tuple.shape[1] % 32 == 0 and per_tuple.shape[1] > 32
    )
    np.testing.assert_allclose(
        per_tuple.reshape(len(features), 32, -1).mean(2), features, rtol=1e-4, atol=1e-5
    )


def test_embed_files_reports_failures_and_writes_the_rest(models, skeleton_files, tmp_path, capsys):
    good = skeleton_files.nw_ucla / "a01_s01_e00_v03.json"
    out = tmp_path / "files.npy"
    code, _, err = run(
        [
            "embed",
            str(models.nw_finetune),
            str(good),
            str(first_ntu_file(skeleton_files)),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 1 and "25 joints" in err
    assert np.load(out).shape == (1, 32)
    code, _, _ = run(
        ["embed", str(models.nw_finetune), str(good), "--out", str(out), "--pool", "tuple"], capsys
    )
    assert code == 0 and np.load(out).shape[1] > 32
    assert json.loads(out.with_suffix(".json").read_text())["names"] == ["a01_s01_e00_v03"]


def test_embed_errors_exit_2(models, tmp_path, capsys):
    code, _, err = run(
        ["embed", str(models.nw_finetune), str(models.nw_dataset), "--out", str(tmp_path / "f.txt")], capsys
    )
    assert code == 2 and ".npy" in err
    code, _, err = run(
        [
            "embed",
            str(models.nw_finetune),
            str(models.nw_dataset),
            "--split",
            "val",
            "--out",
            str(tmp_path / "f.npy"),
        ],
        capsys,
    )
    assert code == 2 and "no prepared split 'val'" in err
