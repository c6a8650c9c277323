"""Joint / motion / bone views of CrosSCLR."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.contrastive.views import bone_view, joint_parents, make_view, motion_view


def test_motion_is_the_next_frame_minus_this_one() -> None:
    x = torch.arange(5.0).view(1, 1, 5, 1, 1).expand(2, 3, 5, 4, 2) ** 2
    motion = motion_view(x)
    assert torch.equal(motion[0, 0, :, 0, 0], torch.tensor([1.0, 3.0, 5.0, 7.0, 0.0]))


def test_parents_follow_the_tree_from_the_centre_whatever_the_bone_direction() -> None:
    #   3 - 1 - 0 - 2 - 4   (centre 0), bones listed in mixed directions
    parents = joint_parents(5, [(1, 0), (0, 2), (3, 1), (4, 2)], center_joint=0)
    assert parents.tolist() == [0, 0, 0, 1, 2]
    with pytest.raises(ValueError, match=r"\[4\] are not connected"):
        joint_parents(5, [(1, 0), (0, 2), (3, 1)], center_joint=0)
    with pytest.raises(ValueError, match="must be in"):
        joint_parents(5, [(1, 7)], center_joint=0)


def test_bone_is_joint_minus_parent_and_zero_at_the_centre() -> None:
    x = torch.randn(2, 3, 4, 5, 1, generator=torch.Generator().manual_seed(0))
    parents = torch.tensor([0, 0, 0, 1, 2])
    bone = bone_view(x, parents)
    assert torch.equal(bone[..., 0, :], torch.zeros_like(bone[..., 0, :]))
    assert torch.equal(bone[..., 3, :], x[..., 3, :] - x[..., 1, :])
    assert torch.equal(make_view(x, "joint", parents), x)
    with pytest.raises(ValueError, match="unknown view"):
        make_view(x, "velocity", parents)
