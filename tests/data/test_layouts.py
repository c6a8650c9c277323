"""Skeleton layouts are consistent trees with sensible centres and mirror pairs."""

from __future__ import annotations

import numpy as np
import pytest

from skeletonmae.data.layouts import LAYOUTS, SkeletonLayout, get_layout, layout_for_joint_count


@pytest.mark.parametrize("name, joints, center", [("ntu25", 25, 1), ("nw_ucla20", 20, 1), ("coco17", 17, 0)])
def test_builtin_layouts(name, joints, center):
    layout = get_layout(name)
    assert layout.num_joints == joints == len(layout.joint_names)
    assert layout.center_joint == center
    assert len(layout.bones) == joints - 1
    # every joint reaches the one root by following parents (a tree, no cycles)
    roots = set()
    for joint in range(joints):
        seen = set()
        while layout.parents[joint] != joint:
            assert joint not in seen
            seen.add(joint)
            joint = layout.parents[joint]
        roots.add(joint)
    assert len(roots) == 1
    # mirror pairs name a left and a right joint
    for left, right in layout.left_right:
        assert "left" in layout.joint_names[left] and "right" in layout.joint_names[right]
    flip = layout.flip_index()
    assert sorted(flip.tolist()) == list(range(joints))
    assert np.array_equal(flip[flip], np.arange(joints))


def test_ntu_names_match_kinect_v2_order():
    layout = get_layout("NTU25")
    assert layout.joint_names[1] == "spine_mid" and layout.joint_names[20] == "spine_shoulder"
    assert layout.parents[3] == 2  # head -> neck
    assert layout.parents[21] == 7 and layout.parents[23] == 11  # hand tips on the hands


def test_lookup_errors_and_joint_count():
    with pytest.raises(ValueError, match="unknown skeleton layout 'smpl'.*ntu25"):
        get_layout("smpl")
    assert layout_for_joint_count(17).name == "coco17"
    with pytest.raises(ValueError, match="no built-in layout has 19 joints"):
        layout_for_joint_count(19)


def test_invalid_layout_is_rejected():
    with pytest.raises(ValueError, match="two parents"):
        SkeletonLayout("bad", 3, ("a", "b", "c"), ((1, 0), (1, 2)), 0, ())
    with pytest.raises(ValueError, match="tree needs"):
        SkeletonLayout("bad", 3, ("a", "b", "c"), ((1, 0),), 0, ())
    assert set(LAYOUTS) >= {"ntu25", "nw_ucla20", "coco17", "openpose18", "mediapipe33"}
