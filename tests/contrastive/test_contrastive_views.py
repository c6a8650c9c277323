"""Joint / motion / bone views of CrosSCLR."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.contrastive.views import bone_view, make_view


def test_motion_is_the_next_frame_minus_this_one() -> None:
    x = torch.arange(5.0).view(1, 1, 5, 1, 1).expand(2, 3, 5, 4, 2) ** 2
    motion = make_view(x, "motion", torch.arange(4))
    assert torch.equal(motion[0, 0, :, 0, 0], torch.tensor([1.0, 3.0, 5.0, 7.0, 0.0]))


def test_bone_is_joint_minus_parent_and_zero_at_the_root() -> None:
    x = torch.randn(2, 3, 4, 5, 1, generator=torch.Generator().manual_seed(0))
    parents = torch.tensor([0, 0, 0, 1, 2])
    bone = bone_view(x, parents)
    assert torch.equal(bone[..., 0, :], torch.zeros_like(bone[..., 0, :]))
    assert torch.equal(bone[..., 3, :], x[..., 3, :] - x[..., 1, :])
    assert torch.equal(make_view(x, "joint", parents), x)
    with pytest.raises(ValueError, match="unknown view"):
        make_view(x, "velocity", parents)
