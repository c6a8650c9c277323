"""``skeletonmae predict``: text and JSON output on files in the real formats, per-input failures, exit
codes (the real NTU recordings: tests/real_data/test_ntu_files.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from cli_runner import run_cli  # noqa: E402
from inference_fixtures import TrainedModels, first_ntu_file, single_torch_thread, trained_models  # noqa: E402,F401

from skeletonmae.data.classes import NTU60_CLASS_NAMES, NW_UCLA_CLASS_NAMES  # noqa: E402


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def run(argv, capsys):
    return run_cli(argv, capsys)


def test_json_lists_sorted_top_k_with_class_names(models, skeleton_files, capsys):
    files = sorted(skeleton_files.nw_ucla.glob("a0[12]_s01_e00_v03.json"))
    code, out, err = run(
        ["predict", str(models.nw_finetune), *map(str, files), "--top-k", "3", "--json"], capsys
    )
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["failures"] == [] and report["class_names_source"] == "checkpoint"
    assert [p["name"] for p in report["predictions"]] == [f.stem for f in files]
    for prediction in report["predictions"]:
        top = prediction["top"]
        assert len(top) == 3
        assert [s["probability"] for s in top] == sorted((s["probability"] for s in top), reverse=True)
        assert all(s["name"] == NW_UCLA_CLASS_NAMES[s["index"]] for s in top)


def test_text_output_on_a_folder_of_ntu_files(models, skeleton_files, capsys):
    folder = skeleton_files.ntu
    code, out, _ = run(["predict", str(models.ntu_finetune), str(folder), "--top-k", "2"], capsys)
    assert code == 0
    for path in folder.glob("*.skeleton"):
        assert path.stem in out
    ranked = [
        line.split(". ", 1)[1].rsplit(" ", 1)[0].strip()
        for line in out.splitlines()
        if line.startswith("  1. ")
    ]
    assert len(ranked) == 4 and all(name in NTU60_CLASS_NAMES for name in ranked)


def test_bad_inputs_are_reported_and_the_exit_code_is_1(models, skeleton_files, tmp_path, capsys):
    good = skeleton_files.nw_ucla / "a01_s01_e00_v03.json"
    wrong_layout = first_ntu_file(skeleton_files)
    code, out, err = run(
        [
            "predict",
            str(models.nw_finetune),
            str(good),
            str(wrong_layout),
            str(tmp_path / "missing.json"),
            "--json",
        ],
        capsys,
    )
    assert code == 1
    report = json.loads(out)
    assert [p["name"] for p in report["predictions"]] == ["a01_s01_e00_v03"]
    assert len(report["failures"]) == 2
    assert "25 joints" in err and "missing.json" in err and "2 of 3 input(s) failed" in err


def test_unusable_checkpoints_exit_2(models, skeleton_files, tmp_path, capsys):
    good = str(skeleton_files.nw_ucla / "a01_s01_e00_v03.json")
    code, _, err = run(["predict", str(tmp_path / "none.pt"), good], capsys)
    assert code == 2 and "checkpoint not found" in err
    code, _, err = run(["predict", str(models.nw_pretrain), good], capsys)
    assert code == 2 and "no trained classifier head" in err and "embed" in err
    code, _, err = run(["predict", str(models.nw_finetune), good, "--top-k", "0"], capsys)
    assert code == 2 and "top_k must be >= 1" in err
