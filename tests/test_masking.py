"""Invariants of the spatial-temporal mask."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.masking import num_removed, spatial_temporal_mask, visible_counts


def make_mask(n=4, t=12, v=25, alpha=0.5, beta=0.4, strategy="random", seed=0, tuple_len=6):
    generator = torch.Generator().manual_seed(seed)
    return spatial_temporal_mask(
        n,
        t,
        v,
        frame_ratio=alpha,
        joint_ratio=beta,
        strategy=strategy,
        tuple_len=tuple_len,
        generator=generator,
    )


@pytest.mark.parametrize("strategy", ["random", "fixed"])
@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.4, 0.6), (0.0, 0.5), (0.5, 0.0)])
def test_counts_shapes_and_mask_agree_with_indices(strategy, alpha, beta):
    n, t, v = 3, 60, 20
    result = make_mask(n, t, v, alpha, beta, strategy)
    tv, vv = visible_counts(t, v, alpha, beta)
    assert tv == t - num_removed(alpha, t) and vv == v - num_removed(beta, v)
    assert result.kept_frames.shape == (n, tv)
    assert result.kept_joints.shape == (n, tv, vv)
    assert result.mask.shape == (n, t, v)
    # exactly the kept tokens are 0 in the mask
    assert torch.equal(result.mask.sum(dim=(1, 2)), torch.full((n,), float(t * v - tv * vv)))
    visible = torch.zeros(n, t, v)
    rows = torch.arange(n)[:, None, None]
    visible[rows, result.kept_frames[:, :, None], result.kept_joints] = 1
    assert torch.equal(visible, 1 - result.mask)
    # indices are sorted and unique
    assert (result.kept_frames.diff(dim=1) > 0).all()
    if vv > 1:
        assert (result.kept_joints.diff(dim=2) > 0).all()
    # removed frames are fully masked
    frame_removed = result.mask.amin(dim=2) == 1
    assert frame_removed.sum() == n * (t - tv)


def test_same_seed_same_mask_and_different_seed_differs():
    a, b, c = make_mask(seed=7), make_mask(seed=7), make_mask(seed=8)
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.equal(a.mask, c.mask)


def test_fixed_keeps_one_joint_set_random_differs_across_frames():
    fixed = make_mask(n=5, t=60, strategy="fixed")
    assert torch.equal(fixed.kept_joints, fixed.kept_joints[:, :1].expand_as(fixed.kept_joints))
    random = make_mask(n=5, t=60, strategy="random")
    differs = (random.kept_joints != random.kept_joints[:, :1]).any(dim=2)  # (N, Tv)
    assert differs.any(dim=1).all()
    # samples of a batch get different masks (batched, no shared noise)
    assert not torch.equal(random.mask[0], random.mask[1])


def test_each_frame_and_joint_is_removed_at_about_the_ratio():
    result = make_mask(n=400, t=60, v=20, alpha=0.5, beta=0.5, seed=1)
    frame_rate = (result.mask.amin(dim=2) == 1).float().mean(dim=0)  # (T,)
    assert frame_rate.sub(0.5).abs().max() < 0.15


def test_rounding_is_half_up():
    assert num_removed(0.5, 25) == 13
    assert num_removed(0.4, 120) == 48
    assert visible_counts(120, 25, 0.5, 0.5) == (60, 12)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(frame_ratio=1.0, joint_ratio=0.5), "frame_ratio"),
        (dict(frame_ratio=0.5, joint_ratio=-0.1), "joint_ratio"),
        (dict(frame_ratio=0.25, joint_ratio=0.5), "tuple_len"),
        (dict(frame_ratio=0.5, joint_ratio=0.5, strategy="grid"), "strategy"),
    ],
)
def test_bad_settings_are_rejected_with_the_setting_named(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        spatial_temporal_mask(2, 60, 20, tuple_len=6, **kwargs)
