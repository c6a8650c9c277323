"""A folder of OpenPose per-frame JSON files (BODY_25 and COCO-18) to the prepared format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skeletonmae.cli.main import main
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.convert import detect_format
from skeletonmae.data.formats.openpose import read_openpose_folder
from skeletonmae.data.store import load_split


def _person(rng, joints: int, confidence: float, shift: float) -> list[float]:
    xy = rng.uniform(100, 200, size=(joints, 2)) + shift
    return np.concatenate([xy, np.full((joints, 1), confidence)], axis=1).ravel().tolist()


def _video(
    folder: Path, frames: int, joints: int = 25, seed: int = 0, empty_frame: int | None = None
) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for t in range(frames):
        people = [] if t == empty_frame else [
            {"pose_keypoints_2d": _person(rng, joints, 0.4, 0.0)},
            {"pose_keypoints_2d": _person(rng, joints, 0.9, 500.0)},  # the more confident one
        ]  # fmt: skip
        (folder / f"{folder.name}_{t:012d}_keypoints.json").write_text(
            json.dumps({"version": 1.3, "people": people})
        )


def test_class_folders_become_labels_and_people_are_ranked_by_confidence(tmp_path: Path):
    for split, count in (("train", 3), ("test", 2)):
        for label in ("jump", "wave"):
            for i in range(count):
                _video(tmp_path / split / label / f"{label}{i}", frames=6 + i, seed=i, empty_frame=2)
    assert detect_format(tmp_path) == "openpose-json"
    splits = read_openpose_folder(tmp_path)
    train = splits["train"]
    assert sorted(splits) == ["test", "train"] and train.num_samples == 6
    assert train.layout == "openpose_body25" and train.channels == "xy_score"
    assert train.class_names == ("jump", "wave") and train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert train.lengths.tolist() == [6, 7, 8, 6, 7, 8] and train.data.shape == (6, 3, 8, 25, 2)
    assert np.allclose(train.data[0, 2, 0, :, 0], 0.9)  # the confident person comes first
    assert not train.data[0, :, 2].any()  # a frame without people stays empty


def test_convert_centres_pixels_and_records_it(tmp_path: Path, capsys):
    source = tmp_path / "videos"
    for label in ("a", "b"):
        for i in range(4):
            _video(source / label / f"{label}{i}", frames=8, joints=18, seed=i)
    out = tmp_path / "prepared"
    assert main(["prepare", "convert", str(source), str(out), "--center", "first", "--normalize-scale"]) == 0
    split = load_split(out / "train")
    assert split.layout == "openpose18" and split.channels == "xy_score"
    assert abs(float(np.asarray(split.data)[:, 0, 0, 1, 0].max())) < 1e-5  # neck at the origin
    assert "not centred" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"people": [', r"line 1.*invalid JSON"),
        ('{"persons": []}', "key 'people'"),
        ('{"people": [{"pose_keypoints_2d": [1, 2]}]}', "key 'pose_keypoints_2d'"),
    ],
)
def test_a_bad_frame_file_is_named(tmp_path: Path, text: str, message: str):
    _video(tmp_path / "a" / "v0", frames=3)
    bad = tmp_path / "a" / "v0" / "v0_000000000001_keypoints.json"
    bad.write_text(text)
    with pytest.raises(DataFormatError, match=message) as error:
        read_openpose_folder(tmp_path)
    assert str(bad) in str(error.value)


def test_predict_reads_an_openpose_video_folder_as_one_input(tmp_path: Path):
    from skeletonmae.inference.inputs import read_inputs

    _video(tmp_path / "clips" / "a" / "v0", frames=5)
    _video(tmp_path / "clips" / "b" / "v1", frames=4, joints=18)
    (tmp_path / "clips" / "b" / "v1" / "v1_000000000002_keypoints.json").write_text("{oops")
    inputs, failures = read_inputs([tmp_path / "clips"], max_persons=2)
    assert [(i.name, i.joints.shape, i.layout) for i in inputs] == [("v0", (3, 5, 25, 2), "openpose_body25")]
    assert len(failures) == 1 and "v1_000000000002_keypoints.json" in failures[0].error
