"""The raw .skeleton reader: generated multi-body files and every kind of bad input (the real files:
tests/real_data/test_ntu_files.py)."""

from __future__ import annotations

import numpy as np
import pytest
from ntu_reference import reference_parse

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_raw import parse_skeleton_file
from skeletonmae.data.synthetic import write_synthetic_ntu


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


def _parse(text: str | bytes, folder):
    path = folder / "S001C001P001R001A001.skeleton"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return parse_skeleton_file(path)


def test_bad_inputs_name_file_and_line(tmp_path):
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
            _parse(bad, tmp_path)
        assert "S001C001P001R001A001.skeleton" in str(caught.value), label


def test_non_ascii_and_duplicate_body(tmp_path):
    with pytest.raises(DataFormatError, match="line 2: non-ASCII"):
        _parse(b"1\n\xff\n", tmp_path)
    text = _file([[[GOOD_JOINT] * 25, [GOOD_JOINT] * 25]]).replace("1001 0 1", "1000 0 1")
    with pytest.raises(DataFormatError, match="body id 1000 appears twice in frame 1"):
        _parse(text, tmp_path)


def test_frames_without_bodies_parse_to_zero_bodies(tmp_path):
    raw = _parse(_file([[], [[GOOD_JOINT] * 25], []]), tmp_path)
    assert raw.bodies_per_frame.tolist() == [0, 1, 0]
    assert raw.bodies[0].frames.tolist() == [1]
    raw = _parse("2\n0\n0\n", tmp_path)
    assert raw.bodies == () and raw.num_frames == 2


def test_windows_line_endings(tmp_path):
    raw = _parse(_file(_good(2)).replace("\n", "\r\n"), tmp_path)
    assert raw.bodies[0].joints.shape == (2, 25, 3)
