"""The fast .skeleton reader: it answers on real and generated files with exactly the careful reader's
arrays, and declines (so the careful reader accepts or names the line) whatever it does not recognise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_raw import parse_skeleton_bytes
from skeletonmae.data.ntu_raw_checked import read_blocks_checked
from skeletonmae.data.ntu_raw_fast import read_blocks_fast
from skeletonmae.data.synthetic import write_synthetic_ntu

GOOD_JOINT = "0.1 0.2 3.0 250 200 900 500 1 0 0 0 2"


def assert_same_blocks(data: bytes) -> None:
    """The fast reader answers and agrees bit for bit with the careful one (lean columns)."""
    fast = read_blocks_fast(data, 25)
    assert fast is not None, "the fast reader declined a well-formed file"
    careful = read_blocks_checked(data.decode("ascii"), Path("x.skeleton"), 25, full=False)
    assert fast.body_ids == careful.body_ids
    for field in ("bodies_per_frame", "frames", "info_lines", "block_bodies", "info", "values"):
        ours, theirs = getattr(fast, field), getattr(careful, field)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, field
        assert np.array_equal(ours, theirs) and np.array_equal(np.signbit(ours), np.signbit(theirs)), field


def test_real_crlf_files(shared_data):
    paths = sorted((shared_data / "ntu" / "skeleton").glob("*.skeleton"))
    assert len(paths) == 4
    for path in paths:
        data = path.read_bytes()
        assert b"\r\n" in data  # the real files are CRLF: the fast path must handle it
        assert_same_blocks(data)


def test_generated_two_body_ghost_and_missing_frame_files(tmp_path):
    paths = write_synthetic_ntu(tmp_path, 10, two_body_fraction=0.6, ghost_fraction=0.5,
                                missing_frame_fraction=0.6, seed=11)
    for path in paths:
        data = path.read_bytes()
        assert_same_blocks(data)
        assert_same_blocks(data.replace(b"\n", b"\r\n"))
    blocks = read_blocks_fast(paths[0].read_bytes(), 25)
    assert blocks.values.shape[1:] == (25, 4) and blocks.info.shape[1] == 9


def _file(joint_lines: list[str], frames: int = 2) -> bytes:
    """Frames of one body (id 1000), the first joint line of the first frame replaced by ``joint_lines``."""
    out = [str(frames + 1), "0"]  # the first frame is empty
    for frame in range(frames):
        joints = joint_lines + [GOOD_JOINT] * (25 - len(joint_lines)) if frame == 0 else [GOOD_JOINT] * 25
        out += ["1", "72057594037931101 0 1 1 1 1 0 -0.1 0.2 2", "25"] + joints
    return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize("first_line", [
    GOOD_JOINT,
    "0.1 0.2 3.0 250  200 900 500 1 0 0 0 2",  # runs of spaces in columns the lean read skips
    "2.673734e-05 -1.5E+2 +3 250 200 900 500 1 0 0 0 2",  # exponents and a plus sign: read by float()
    "0.12345678901234567 -.5 7. 250 200 900 500 1 0 0 0 2",  # longer than a window, bare dots
    "0.1 0.2 3.0 abc nan 900 500 1 0 0 0 2",  # junk in unused columns: accepted, as np.loadtxt does
])
def test_fast_reader_answers_and_agrees(first_line):
    assert_same_blocks(_file([first_line]))


@pytest.mark.parametrize("data", [
    _file([GOOD_JOINT + " 5"]),  # 13 values: the careful reader takes column 12 as the state
    _file([GOOD_JOINT[:-1] + "1.5"]),  # a state that is not one digit
    _file([GOOD_JOINT.replace(" ", "\t")]),  # tabs
    _file([" " + GOOD_JOINT]),  # a leading space
    _file([GOOD_JOINT]).replace(b"\n25\n", b"\n025\n", 1),  # a joint count int() reads but is not "25"
    _file([GOOD_JOINT]) + b"\n\n",  # trailing blank lines
    _file([GOOD_JOINT]).rstrip(b"\n"),  # no final line end
])
def test_fast_reader_declines_and_careful_reader_accepts(data):
    assert read_blocks_fast(data, 25) is None
    raw = parse_skeleton_bytes(data, name="S001C001P001R001A001")
    assert raw.num_frames == 3 and raw.bodies[0].joints.shape == (2, 25, 3)


@pytest.mark.parametrize("first_line, message", [
    ("0.1 0.2 3.0 250  900 500 1 0 0 0 2", "line 6: expected 12 numbers on a joint line, got 11"),  # 11 + 2 spaces
    ("0.1 0.2 3.0 250 # 900 500 1 0 0 0 2", "line 6: non-numeric value '#'"),  # loadtxt reads a comment
    ("0.1 0.2 3.0 250 200 900 500 1 0 0 2", "line 6: expected 12 numbers on a joint line, got 11"),
    ("1e400 0.2 3.0 250 200 900 500 1 0 0 0 2", "line 6: non-finite value"),
    ("0x1 0.2 3.0 250 200 900 500 1 0 0 0 2", "line 6: non-numeric value '0x1'"),
    ("-- 0.2 3.0 250 200 900 500 1 0 0 0 2", "line 6: non-numeric value '--'"),
])
def test_errors_still_name_the_line(first_line, message):
    data = _file([first_line])
    with pytest.raises(DataFormatError, match=message) as caught:
        parse_skeleton_bytes(data, name="S001C001P001R001A001", path="/raw/S001C001P001R001A001.skeleton")
    assert "S001C001P001R001A001.skeleton" in str(caught.value)


def test_bad_info_value_is_located():
    data = _file([GOOD_JOINT]).replace(b"-0.1 0.2 2", b"-0.1 0.2 x", 1)
    assert read_blocks_fast(data, 25) is None
    with pytest.raises(DataFormatError, match="line 4: non-numeric value on a body info line"):
        parse_skeleton_bytes(data, name="x")


def test_body_order_and_ids_are_exact(tmp_path):
    text = ["2", "2"]
    for body_id in ("72057594037931102", "72057594037931101"):  # 17 digits: beyond float64's integers
        text += [f"{body_id} 0 1 1 1 1 0 0.1 0.2 2", "25"] + [GOOD_JOINT] * 25
    text += ["1", "72057594037931101 0 1 1 1 1 0 0.1 0.2 2", "25"] + [GOOD_JOINT] * 25
    data = ("\n".join(text) + "\n").encode()
    assert_same_blocks(data)
    raw = parse_skeleton_bytes(data, name="x")
    assert [body.body_id for body in raw.bodies] == ["72057594037931102", "72057594037931101"]
    assert [body.frames.tolist() for body in raw.bodies] == [[0], [0, 1]]
