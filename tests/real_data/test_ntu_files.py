"""Real NTU RGB+D ``.skeleton`` files (``ntu/skeleton``: four Kinect v2 recordings, one body each)
through the reader, the standard preprocessing, ``inspect`` and ``predict``. Extra checks: the module
skips as a whole where ../shared/data is absent (tests/data and tests/cli cover the same code on
generated files)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from ntu_reference import reference_parse
from shared_data import require_shared_data

from skeletonmae.cli.main import main
from skeletonmae.data.ntu_preprocess import preprocess_skeleton
from skeletonmae.data.ntu_raw import parse_skeleton_file

SKELETONS = require_shared_data("real NTU .skeleton files", "ntu/skeleton") / "ntu" / "skeleton"

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from inference_fixtures import TrainedModels, trained_models  # noqa: E402

REAL_FRAMES = {
    "S001C001P001R001A001": 103,
    "S001C001P001R001A011": 82,
    "S002C001P003R001A003": 100,
    "S003C001P015R001A034": 71,
}


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


@pytest.mark.parametrize("name, frames", sorted(REAL_FRAMES.items()))
def test_real_files(name, frames):
    path = SKELETONS / f"{name}.skeleton"
    raw = parse_skeleton_file(path, full=True)
    assert raw.name == name and raw.num_frames == frames
    assert len(raw.bodies) == 1
    body = raw.bodies[0]
    assert body.joints.shape == (frames, 25, 3) and body.joints.dtype == np.float32
    assert np.array_equal(body.frames, np.arange(frames))
    expected = reference_parse(path.read_text())[body.body_id]
    np.testing.assert_allclose(body.joints, expected[1][..., :3], rtol=1e-6)
    np.testing.assert_allclose(body.color_xy, expected[1][..., 5:7], rtol=1e-6)
    np.testing.assert_array_equal(body.joint_tracking, expected[1][..., 11])
    np.testing.assert_allclose(body.info, expected[2], rtol=1e-6)
    assert set(np.unique(body.joint_tracking)) <= {0, 1, 2}


def test_first_joint_of_the_first_real_file():
    raw = parse_skeleton_file(SKELETONS / "S001C001P001R001A001.skeleton", full=True)
    body = raw.bodies[0]
    assert body.body_id == "72057594037931101"
    np.testing.assert_allclose(body.joints[0, 0], [0.2181153, 0.1725972, 3.785547], rtol=1e-6)
    np.testing.assert_allclose(
        body.orientation[0, 0], [-0.2059419, 0.05349901, 0.9692109, -0.1239193], rtol=1e-6
    )
    np.testing.assert_allclose(body.info[0, -3:], [0.02764709, 0.05745083, 2], rtol=1e-6)


def test_default_reads_only_what_the_pipeline_uses():
    path = SKELETONS / "S001C001P001R001A011.skeleton"
    lean, full = parse_skeleton_file(path).bodies[0], parse_skeleton_file(path, full=True).bodies[0]
    np.testing.assert_array_equal(lean.joints, full.joints)
    np.testing.assert_array_equal(lean.joint_tracking, full.joint_tracking)
    assert lean.color_xy is None and lean.orientation is None and full.depth_xy.shape == (82, 25, 2)


def test_real_files_keep_every_frame_and_are_centred():
    for path, frames in zip(sorted(SKELETONS.glob("*.skeleton")), (103, 82, 100, 71)):
        sample = preprocess_skeleton(parse_skeleton_file(path))
        assert sample.joints.shape == (3, frames, 25, 2)
        np.testing.assert_allclose(sample.joints[:, 0, 1, 0], 0.0, atol=1e-7)  # spine middle, first frame
        assert not sample.joints[..., 1].any()  # one body: the second person is zero padding
        raw = parse_skeleton_file(path).bodies[0].joints
        np.testing.assert_allclose(sample.joints[:, :, :, 0].transpose(1, 2, 0), raw - raw[0, 1], atol=1e-6)


def test_inspect_raw_file(capsys):
    path = SKELETONS / "S003C001P015R001A034.skeleton"
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "frames: 71" in out and "joints: 25" in out and "value_range: x [" in out
    assert main(["inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 71 and len(summary["bodies"]) == 1 and summary["bodies"][0]["frames"] == 71
    assert summary["value_range"]["z"][0] > 2.0  # metres from the camera


def test_the_real_ntu_files_are_predicted(models, capsys):
    """Real Kinect v2 recordings through the path tests/cli/test_predict_cli.py takes on generated ones."""
    code = main(["predict", str(models.ntu_finetune), str(SKELETONS)])
    out = capsys.readouterr().out
    assert code == 0
    for name in ("S001C001P001R001A001", "S003C001P015R001A034"):
        assert name in out
