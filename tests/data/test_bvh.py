"""BVH motion capture: forward kinematics, malformed files, joint maps, folder conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.bvh import forward_kinematics, load_joint_map, parse_bvh, read_bvh_folder
from skeletonmae.data.formats.convert import convert
from skeletonmae.data.store import load_split, read_manifest

# Two joints: a root that moves and turns about z, an arm of length 2 along x that turns about y.
TWO_JOINTS = """HIERARCHY
ROOT base
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT arm
  {
    OFFSET 2 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 1 0 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.05
0 0 0 0 0 0 0 0 0
10 0 0 90 0 0 0 0 0
0 5 0 90 0 0 0 0 90
"""


def test_forward_kinematics_of_a_two_joint_rig_by_hand(tmp_path):
    path = tmp_path / "two.bvh"
    path.write_text(TWO_JOINTS)
    motion = parse_bvh(path)
    assert [j.name for j in motion.joints] == ["base", "arm"] and motion.frame_time == 0.05
    positions = forward_kinematics(motion)
    # frame 0: at rest; the arm 2 along x, its end 1 further
    np.testing.assert_allclose(positions["arm"][0], [2, 0, 0], atol=1e-9)
    np.testing.assert_allclose(positions["arm/end"][0], [3, 0, 0], atol=1e-9)
    # frame 1: the root moves 10 along x and turns 90 degrees about z: x -> y
    np.testing.assert_allclose(positions["base"][1], [10, 0, 0], atol=1e-9)
    np.testing.assert_allclose(positions["arm"][1], [10, 2, 0], atol=1e-9)
    np.testing.assert_allclose(positions["arm/end"][1], [10, 3, 0], atol=1e-9)
    # frame 2: root at (0, 5, 0) turned 90 about z; the arm turns 90 about its own y, so its end
    # points along the root frame's -z, which stays -z in the world: (0, 5, 0) + (0, 2, 0) + (0, 0, -1)
    np.testing.assert_allclose(positions["arm"][2], [0, 7, 0], atol=1e-9)
    np.testing.assert_allclose(positions["arm/end"][2], [0, 7, -1], atol=1e-9)


@pytest.mark.parametrize(
    "change,line,message",
    [
        (lambda t: t.rsplit("\n", 2)[0] + "\n", 21, "ends after 2 of the 3 frames"),
        (lambda t: t.replace("CHANNELS 3 Z", "CHANNELS 4 Z"), 9, "declares 4 channels but lists 3"),
        (lambda t: t.replace("10 0 0 90 0 0 0 0 0", "10 0 0 90 0 0 0 0"), 20, "8 values in frame 2; .* 9"),
        (lambda t: t.replace("0 5 0 90 0 0 0 0 90", "0 5 0 ninety 0 0 0 0 90"), 21, "'ninety' is not a"),
        (lambda t: t.replace("Frame Time: 0.05", "Frame Time: soon"), 18, "expected 'Frame Time: <number>'"),
    ],
)  # fmt: skip
def test_malformed_files_are_refused_with_file_and_line(tmp_path, change, line, message):
    path = tmp_path / "bad.bvh"
    path.write_text(change(TWO_JOINTS))
    with pytest.raises(DataFormatError, match=rf"bad.bvh, line {line}: .*{message}"):
        parse_bvh(path)


def test_joint_maps_built_in_and_from_yaml(tmp_path):
    assert load_joint_map("bandai").joints[3] == "Head/end" and load_joint_map("cmu").layout == "nw_ucla20"
    short = tmp_path / "short.yaml"
    short.write_text("layout: nw_ucla20\njoints: {hip_center: Hips}\n")
    with pytest.raises(ValueError, match="no rig joint for spine, shoulder_center"):
        load_joint_map(short)
    with pytest.raises(FileNotFoundError, match="built-in map"):
        load_joint_map(tmp_path / "none.yaml")


def _rig_file(path: Path, frames: int) -> Path:
    """A cmu-named rig (Mixamo's namespace; every joint a child of the hips, 10 cm above them)
    standing still for ``frames``."""
    names = "Hips Spine Neck Head LeftArm LeftForeArm LeftHand RightArm RightForeArm RightHand LeftUpLeg"
    names = (names + " LeftLeg LeftFoot LeftToeBase RightUpLeg RightLeg RightFoot RightToeBase").split()
    lines = ["HIERARCHY", "ROOT Hips", "{", "OFFSET 0 100 0", "CHANNELS 6 Xposition Yposition Zposition "
             "Zrotation Xrotation Yrotation"]  # fmt: skip
    for name in names[1:]:
        lines += [f"JOINT mixamorig:{name}", "{", "OFFSET 0 10 0", "CHANNELS 3 Zrotation Xrotation Yrotation"]
        if name.endswith("Hand"):
            lines += ["End Site", "{", "OFFSET 0 5 0", "}"]
        lines.append("}")
    lines += ["}", "MOTION", f"Frames: {frames}", "Frame Time: 0.0083333"]
    lines += [" ".join(["0"] * (6 + 3 * (len(names) - 1)))] * frames
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_folder_converts_with_resampling_and_bad_files_are_listed(tmp_path, capsys):
    folder = tmp_path / "captures"
    folder.mkdir()
    _rig_file(folder / "long.bvh", 241)  # 2 s at 120 fps
    (folder / "broken.bvh").write_text(TWO_JOINTS.rsplit("\n", 2)[0] + "\n")
    splits, skipped = read_bvh_folder(folder, joint_map="cmu", units="cm", fps=30)
    assert splits["train"].lengths.tolist() == [61] and splits["train"].names == ("long",)
    assert skipped[0][0].endswith("broken.bvh") and "line 21" in skipped[0][1]
    first = splits["train"].data[0, :, 0, :, 0]  # (3, V): the root's position channels are zero
    np.testing.assert_allclose(first[:, 0], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(first[:, 1], [0, 0.1, 0], atol=1e-6)  # spine: 10 cm up, in metres
    np.testing.assert_allclose(first[:, 7], [0, 0.15, 0], atol=1e-6)  # left hand: the end site
    counts, warnings = convert(folder, tmp_path / "prepared", joint_map="cmu", fps=30, window=(32, 32))
    assert counts == {"train": 2} and any(w.code == "skipped_files" for w in warnings)
    assert read_manifest(tmp_path / "prepared")["skipped"][0]["path"].endswith("broken.bvh")
    assert load_split(tmp_path / "prepared" / "train").lengths.tolist() == [32, 29]
