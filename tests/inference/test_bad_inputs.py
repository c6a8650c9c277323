"""Bad inputs and incompatible checkpoints: one clear message each, the other inputs still used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from inference_fixtures import TrainedModels, first_ntu_file, single_torch_thread, trained_models  # noqa: F401

import skeletonmae
from skeletonmae.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from skeletonmae.data.formats.generic import write_generic_npz
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.inference.checkpoint_model import load_inference_model
from skeletonmae.inference.inputs import SkeletonInput


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


@pytest.fixture(scope="module")
def nw_predictor(models):
    return skeletonmae.load(models.nw_finetune)


def _good_nw_file(skeleton_files) -> Path:
    return skeleton_files.nw_ucla / "a01_s01_e00_v03.json"


def _single_failure(report, good_count: int):
    assert len(report.predictions) == good_count
    assert len(report.failures) == 1
    return report.failures[0].error


def test_wrong_joint_count_for_the_checkpoint_layout(nw_predictor, skeleton_files):
    ntu_file = first_ntu_file(skeleton_files)
    report = nw_predictor.predict_report([ntu_file, _good_nw_file(skeleton_files)])
    error = _single_failure(report, 1)
    assert str(ntu_file) in error and "25 joints (ntu25)" in error
    assert "layout nw_ucla20 has 20" in error


def test_too_few_frames(nw_predictor, skeleton_files, tmp_path):
    record = json.loads(_good_nw_file(skeleton_files).read_text())
    record.update(file_name="a02_s09_e04_v03", skeletons=record["skeletons"][:1])  # T = 1, as that real file
    one_frame = tmp_path / "a02_s09_e04_v03.json"
    one_frame.write_text(json.dumps(record))
    report = nw_predictor.predict_report([one_frame, _good_nw_file(skeleton_files)])
    error = _single_failure(report, 1)
    assert "a02_s09_e04_v03" in error and "1 valid frame(s), at least 2" in error
    accepting = skeletonmae.load(nw_predictor.model.path, min_frames=1)
    assert len(accepting.predict(one_frame)) == 1


def test_nan_values_are_rejected_in_files_and_arrays(nw_predictor, skeleton_files, tmp_path):
    record = json.loads(_good_nw_file(skeleton_files).read_text())
    record["skeletons"][3][5][1] = float("nan")
    nan_file = tmp_path / "a01_s01_e00_v03.json"
    nan_file.write_text(json.dumps(record))  # Python writes the NaN literal
    report = nw_predictor.predict_report([nan_file, _good_nw_file(skeleton_files)])
    error = _single_failure(report, 1)
    assert str(nan_file) in error and "NaN" in error and "frame 3" in error
    array = np.ones((3, 10, 20, 1), np.float32)
    array[1, 4, 2, 0] = np.inf
    report = nw_predictor.predict_report([SkeletonInput("mine", "<array>", array)])
    assert "NaN or inf (first in frame 4)" in report.failures[0].error


@pytest.mark.parametrize(
    "content, expected",
    [
        (b'{"file_name": "a01_s01_e00_v03", "skeletons": [[[0, 0]]], "label": 1}', "shape"),
        (b"\x00\x01binary", "invalid JSON"),
    ],
)
def test_unreadable_json_files(nw_predictor, skeleton_files, tmp_path, content, expected):
    bad = tmp_path / "a01_s01_e00_v03.json"
    bad.write_bytes(content)
    error = _single_failure(nw_predictor.predict_report([bad, _good_nw_file(skeleton_files)]), 1)
    assert str(bad) in error and expected in error


def test_truncated_skeleton_file_names_the_file(models, skeleton_files, tmp_path):
    source = first_ntu_file(skeleton_files)
    truncated = tmp_path / source.name
    truncated.write_bytes(source.read_bytes()[:5000])
    report = skeletonmae.load(models.ntu_finetune).predict_report([truncated, source])
    error = _single_failure(report, 1)
    assert str(truncated) in error and "line" in error


def test_unknown_suffix_missing_path_and_empty_folder(nw_predictor, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    empty = tmp_path / "empty"
    empty.mkdir()
    report = nw_predictor.predict_report([tmp_path / "notes.txt", tmp_path / "nope.json", empty])
    errors = [failure.error for failure in report.failures]
    assert "unsupported file type '.txt'" in errors[0]
    assert "no such file or folder" in errors[1]
    assert "holds no input file" in errors[2]


def test_generic_archive_samples_and_extra_persons(nw_predictor, tmp_path):
    rng = np.random.default_rng(0)
    data = np.zeros((3, 3, 15, 20, 2), np.float32)
    data[:, :, :12, :, 0] = rng.normal(0, 0.2, (3, 3, 12, 20))
    data[2, :, :12, :, 1] = 0.1  # a second person the 1-person checkpoint cannot take
    samples = SkeletonSamples.from_arrays(
        data, np.array([0, 1, 2]), names=["a", "b", "c"], layout="nw_ucla20"
    )
    archive = write_generic_npz(tmp_path / "mine.npz", {"test": samples})
    report = nw_predictor.predict_report([archive])
    assert [p.name for p in report.predictions] == ["mine.npz#a", "mine.npz#b"]
    assert len(report.failures) == 1
    assert "mine.npz#c" in report.failures[0].error
    assert "at most 1" in report.failures[0].error


# -- checkpoints ---------------------------------------------------------------------------------


def _edited_checkpoint(source: Path, target: Path, edit) -> Path:
    payload = load_checkpoint(source)
    edit(payload)
    return save_checkpoint(target, payload)


def test_newer_format_version_is_refused(models, tmp_path):
    path = _edited_checkpoint(models.nw_finetune, tmp_path / "new.pt", lambda p: p.update(format_version=99))
    with pytest.raises(CheckpointError, match="newer than this skeletonmae"):
        load_inference_model(path)


def test_config_from_another_version_is_refused(models, tmp_path):
    path = _edited_checkpoint(
        models.nw_finetune,
        tmp_path / "config.pt",
        lambda p: p["config"]["model"].update(attention_kind="softmax"),
    )
    with pytest.raises(CheckpointError, match="does not fit this skeletonmae version"):
        load_inference_model(path)


def test_weights_that_do_not_match_the_config_are_refused(models, tmp_path):
    def drop_a_weight(payload):
        del payload["model"]["head.fc.weight"]

    path = _edited_checkpoint(models.nw_finetune, tmp_path / "weights.pt", drop_a_weight)
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_inference_model(path)


def test_unknown_stage_and_non_checkpoint_files(models, tmp_path):
    path = _edited_checkpoint(models.nw_finetune, tmp_path / "stage.pt", lambda p: p.update(stage="distill"))
    with pytest.raises(CheckpointError, match="unknown stage 'distill'"):
        load_inference_model(path)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_inference_model(junk)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a skeletonmae training checkpoint"):
        load_inference_model(tmp_path / "other.pt")


def test_class_names_from_the_checkpoint_then_the_dataset_then_built_in_tables(models, tmp_path):
    trained = load_inference_model(models.nw_finetune)
    assert trained.names_source == "checkpoint" and trained.layout.name == "nw_ucla20"
    names = [f"my action {i}" for i in range(10)]
    renamed = _edited_checkpoint(
        models.nw_finetune, tmp_path / "named.pt", lambda p: p["extra"].update(class_names=names)
    )
    assert load_inference_model(renamed).class_names == tuple(names)

    def forget_names(payload):
        payload["extra"] = {}

    unnamed = _edited_checkpoint(models.nw_finetune, tmp_path / "unnamed.pt", forget_names)
    model = load_inference_model(unnamed)
    assert model.names_source == str(models.nw_dataset / "train" / "meta.json")
    assert model.class_names == trained.class_names

    def forget_names_and_data(payload):
        forget_names(payload)
        payload["config"]["data"]["root"] = str(tmp_path / "gone")

    moved = _edited_checkpoint(models.nw_finetune, tmp_path / "moved.pt", forget_names_and_data)
    model = load_inference_model(moved)
    assert model.names_source == "built-in" and model.class_names == trained.class_names
    assert model.layout.name == "nw_ucla20"  # from the joint count
