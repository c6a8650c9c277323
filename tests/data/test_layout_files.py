"""Layouts as data: a user's YAML/JSON layout file, checked, carried through prepare,
training and checkpoints; the new built-in layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from skeletonmae.cli.main import main
from skeletonmae.data import layouts
from skeletonmae.data.layouts import get_layout, layout_for_joint_count, load_layout_file
from skeletonmae.data.store import load_split

# A 6-joint stick figure: pelvis root, spine, head, two arms hanging off the spine.
STICK = {
    "name": "stick6",
    "joint_names": ["pelvis", "spine", "head", "hand_left", "hand_right", "tail"],
    "bones": [[1, 0], [2, 1], [3, 1], [4, 1], [5, 0]],
    "center_joint": 0,
    "left_right": [[3, 4]],
}


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(layouts, "LAYOUTS", dict(layouts.LAYOUTS))


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data) if path.suffix != ".json" else json.dumps(data))
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_layout_file_is_read_checked_and_registered(tmp_path, clean_registry, suffix):
    layout = load_layout_file(_write(tmp_path / f"stick{suffix}", STICK))
    assert get_layout("stick6") is layout and layout.parents == (0, 0, 1, 1, 1, 0)
    assert layout.flip_index().tolist() == [0, 1, 2, 4, 3, 5]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"bones": [[1, 0], [2, 1], [3, 1], [4, 1], [5, 9]]}, r"bone \(5, 9\) out of range"),
        ({"bones": [[1, 0], [2, 1], [3, 1], [4, 1]]}, "a tree needs num_joints - 1"),
        ({"bones": [[1, 2], [2, 1], [3, 1], [4, 1], [5, 0]]}, "form a cycle"),
        ({"left_right": [[3, 4], [4, 5]]}, "left_right"),
        ({"center_joint": "pelvis"}, "field 'center_joint'"),
        ({"name": "My-Stick"}, "field 'name'"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ],
)
def test_an_invalid_layout_file_is_refused_with_the_field_named(tmp_path, clean_registry, change, message):
    path = _write(tmp_path / "bad.yaml", {**STICK, **change})
    with pytest.raises(ValueError, match=message) as error:
        load_layout_file(path)
    assert str(path) in str(error.value)


def test_a_layout_file_cannot_redefine_a_built_in_layout(tmp_path, clean_registry):
    with pytest.raises(ValueError, match="built-in"):
        load_layout_file(_write(tmp_path / "coco.yaml", {**STICK, "name": "coco17"}))


def test_built_in_layouts_by_joint_count():
    assert layout_for_joint_count(18).name == "openpose18" and get_layout("openpose18").parents[1] == 1
    assert (
        layout_for_joint_count(33).name == "mediapipe33" and len(get_layout("mediapipe33").left_right) == 16
    )


def test_custom_layout_travels_from_prepare_into_the_checkpoint(tmp_path, clean_registry):
    rng = np.random.default_rng(0)
    count = 24
    data = (rng.normal(size=(count, 3, 12, 6, 1)) * 0.3).astype(np.float32)
    archive = tmp_path / "mine.npz"
    np.savez(archive, data=data, labels=np.arange(count) % 2, split=np.array(["train"] * 16 + ["test"] * 8))
    layout_file = _write(tmp_path / "stick.yaml", STICK)
    prepared = tmp_path / "prepared"
    assert main(["prepare", "convert", str(archive), str(prepared), "--layout", str(layout_file)]) == 0
    layouts.LAYOUTS.pop("stick6")  # a new process: only the dataset knows the layout
    split = load_split(prepared / "train")
    assert split.layout == "stick6" and split.meta["layout_definition"]["bones"] == STICK["bones"]
    sets = [
        f"data.root={prepared}",
        "model.preset=cpu-small",
        "data.transform.num_frames=12",
        "data.transform.min_crop_frames=8",
        "data.transform.stream=bone",  # needs the layout's parents
        "data.batch_size=8",
        "training.epochs=1",
        "training.progress_bar=false",
    ]
    args = [arg for item in sets for arg in ("--set", item)]
    assert main(["pretrain", *args, "--output-dir", str(tmp_path / "pre")]) == 0
    pretrained = ["--set", f"finetune.pretrained={tmp_path / 'pre' / 'best.pt'}"]
    assert main(["finetune", *args, *pretrained, "--output-dir", str(tmp_path / "ft")]) == 0
    layouts.LAYOUTS.pop("stick6")  # another process: only the checkpoint knows it
    from skeletonmae.inference.predictor import load

    model = load(tmp_path / "ft" / "best.pt")
    assert model.model.layout.name == "stick6" and model.model.layout.left_right == ((3, 4),)
