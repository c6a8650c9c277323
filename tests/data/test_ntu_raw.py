"""The raw .skeleton reader: real files, generated multi-body files, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_raw import parse_skeleton_bytes, parse_skeleton_file
from skeletonmae.data.synthetic import write_synthetic_ntu

REAL_FRAMES = {
    "S001C001P001R001A001": 103,
    "S001C001P001R001A011": 82,
    "S002C001P003R001A003": 100,
    "S003C001P015R001A034": 71,
}


def reference_parse(text: str) -> dict[str, tuple[list[int], np.ndarray, np.ndarray]]:
    """Line-by-line reading, the obvious way: body id -> (frames, (F, 25, 12) values, (F, 9) info)."""
    lines = text.splitlines()
    cursor, bodies = 1, {}
    for frame in range(int(lines[0])):
        count = int(lines[cursor])
        cursor += 1
        for _ in range(count):
            info = lines[cursor].split()
            rows = [[float(v) for v in lines[cursor + 2 + j].split()] for j in range(int(lines[cursor + 1]))]
            cursor += 2 + len(rows)
            entry = bodies.setdefault(info[0], ([], [], []))
            entry[0].append(frame)
            entry[1].append(rows)
            entry[2].append([float(v) for v in info[1:]])
    return {k: (f, np.array(v), np.array(i)) for k, (f, v, i) in bodies.items()}


@pytest.mark.parametrize("name, frames", sorted(REAL_FRAMES.items()))
def test_real_files(shared_data, name, frames):
    path = shared_data / "ntu" / "skeleton" / f"{name}.skeleton"
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


def test_first_joint_of_the_first_real_file(shared_data):
    raw = parse_skeleton_file(shared_data / "ntu" / "skeleton" / "S001C001P001R001A001.skeleton", full=True)
    body = raw.bodies[0]
    assert body.body_id == "72057594037931101"
    np.testing.assert_allclose(body.joints[0, 0], [0.2181153, 0.1725972, 3.785547], rtol=1e-6)
    np.testing.assert_allclose(
        body.orientation[0, 0], [-0.2059419, 0.05349901, 0.9692109, -0.1239193], rtol=1e-6
    )
    np.testing.assert_allclose(body.info[0, -3:], [0.02764709, 0.05745083, 2], rtol=1e-6)


def test_generated_multi_body_files_match_the_reference(tmp_path):
    paths = write_synthetic_ntu(
        tmp_path, 12, two_body_fraction=1.0, ghost_fraction=0.5, missing_frame_fraction=1.0, seed=3
    )
    for path in paths:
        raw = parse_skeleton_file(path)
        expected = reference_parse(path.read_text())
        assert [body.body_id for body in raw.bodies] == list(expected)
        assert len(raw.bodies) >= 2
        assert (raw.bodies_per_frame == 0).any()  # frames without bodies are kept as empty frames
        for body in raw.bodies:
            frames, values, _ = expected[body.body_id]
            assert body.frames.tolist() == frames
            np.testing.assert_allclose(body.joints, values[..., :3], rtol=1e-6)


def _file(frames: list[list[list[str]]]) -> str:
    """Build a .skeleton text from frames of bodies of 25 joint lines (strings)."""
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for number, joints in enumerate(bodies):
            out += [f"{1000 + number} 0 1 1 1 1 0 0.1 0.2 2", str(len(joints))] + joints
    return "\n".join(out) + "\n"


GOOD_JOINT = "0.1 0.2 3.0 250 200 900 500 1 0 0 0 2"


def _good(frames: int = 3) -> list[list[list[str]]]:
    return [[[GOOD_JOINT] * 25] for _ in range(frames)]


def _parse(text: str):
    return parse_skeleton_bytes(
        text.encode(), name="S001C001P001R001A001", path="/raw/S001C001P001R001A001.skeleton"
    )


def test_bad_inputs_name_file_and_line():
    text = _file(_good())
    lines = text.splitlines()
    cases = {
        "truncated": ("\n".join(lines[:40]), r"line \d+.*(truncated|ends)"),
        "wrong joint count": (text.replace("\n25\n", "\n24\n", 1), "line 4: joint count 24, expected 25"),
        "non-numeric": (
            "\n".join(lines[:10] + ["0.1 0.2 abc 250 200 900 500 1 0 0 0 2"] + lines[11:]),
            "line 11: non-numeric value 'abc'",
        ),
        "missing value": (
            "\n".join(lines[:10] + ["0.1 0.2 3.0 250"] + lines[11:]),
            "line 11: expected 12 numbers",
        ),
        "nan": (
            "\n".join(lines[:12] + ["0.1 nan 3.0 250 200 900 500 1 0 0 0 2"] + lines[13:]),
            "line 13: non-finite value",
        ),
        "inf info": (text.replace("0.1 0.2 2", "inf 0.2 2", 1), "line 3: non-finite"),
        "empty": ("0\n", "line 1: frame count is 0"),
        "not a count": ("abc\n", "line 1: expected the frame count"),
        "extra content": (text + "7\n", "unexpected content after the last of 3 frames"),
    }
    for label, (bad, message) in cases.items():
        with pytest.raises(DataFormatError, match=message) as caught:
            _parse(bad)
        assert "S001C001P001R001A001.skeleton" in str(caught.value), label


def test_non_ascii_and_duplicate_body():
    with pytest.raises(DataFormatError, match="line 2: non-ASCII"):
        parse_skeleton_bytes(b"1\n\xff\n", name="x")
    text = _file([[[GOOD_JOINT] * 25, [GOOD_JOINT] * 25]]).replace("1001 0 1", "1000 0 1")
    with pytest.raises(DataFormatError, match="body id 1000 appears twice in frame 1"):
        _parse(text)


def test_frames_without_bodies_parse_to_zero_bodies():
    raw = _parse(_file([[], [[GOOD_JOINT] * 25], []]))
    assert raw.bodies_per_frame.tolist() == [0, 1, 0]
    assert raw.bodies[0].frames.tolist() == [1]
    raw = _parse("2\n0\n0\n")
    assert raw.bodies == () and raw.num_frames == 2


def test_default_reads_only_what_the_pipeline_uses(shared_data):
    path = shared_data / "ntu" / "skeleton" / "S001C001P001R001A011.skeleton"
    lean, full = parse_skeleton_file(path).bodies[0], parse_skeleton_file(path, full=True).bodies[0]
    np.testing.assert_array_equal(lean.joints, full.joints)
    np.testing.assert_array_equal(lean.joint_tracking, full.joint_tracking)
    assert lean.color_xy is None and lean.orientation is None and full.depth_xy.shape == (82, 25, 2)


def test_windows_line_endings():
    raw = _parse(_file(_good(2)).replace("\n", "\r\n"))
    assert raw.bodies[0].joints.shape == (2, 25, 3)
