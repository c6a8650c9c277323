"""Invariants of the spatial-temporal mask."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.masking import motion_scores, num_removed, spatial_temporal_mask, visible_counts
from skeletonmae.run_config import MaskConfig, preset


def make_mask(n=4, t=12, v=25, alpha=0.5, beta=0.4, strategy="random", seed=0):
    generator = torch.Generator().manual_seed(seed)
    return spatial_temporal_mask(
        n,
        t,
        v,
        frame_ratio=alpha,
        joint_ratio=beta,
        strategy=strategy,
        generator=generator,
    )


@pytest.mark.parametrize("strategy", ["random", "fixed"])
@pytest.mark.parametrize(
    "alpha,beta,tv,vv", [(0.5, 0.5, 30, 10), (0.4, 0.6, 36, 8), (0.0, 0.5, 60, 10), (0.5, 0.0, 30, 20)]
)
def test_counts_shapes_and_mask_agree_with_indices(strategy, alpha, beta, tv, vv):
    """60 frames, 20 joints: the kept counts are written out, not recomputed by the module."""
    n, t, v = 3, 60, 20
    result = make_mask(n, t, v, alpha, beta, strategy)
    assert visible_counts(t, v, alpha, beta) == (tv, vv)
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


@pytest.mark.parametrize("strategy", ["random", "fixed"])
def test_each_frame_and_joint_is_removed_at_about_the_ratio(strategy):
    """Exactly 30 of 60 frames and 10 of 20 joints of a kept frame go, and no frame or joint is
    favoured: over 400 samples each one's removal rate is near the ratio."""
    result = make_mask(n=400, t=60, v=20, alpha=0.5, beta=0.4, seed=1, strategy=strategy)
    frame_removed = result.mask.amin(dim=2) == 1  # (N, T)
    assert (frame_removed.sum(dim=1) == 30).all()
    kept = ~frame_removed
    joints_removed = result.mask.bool() & kept[:, :, None]  # (N, T, V): removed inside kept frames
    assert (joints_removed.sum(dim=2)[kept] == 8).all()
    assert frame_removed.float().mean(dim=0).sub(0.5).abs().max() < 0.1  # (T,) per frame
    joint_rate = joints_removed.sum(dim=(0, 1)).float() / kept.sum()  # (V,) per joint
    assert joint_rate.sub(0.4).abs().max() < 0.1


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
        (dict(frame_ratio=0.5, joint_ratio=0.99), "removes every joint"),
        (dict(frame_ratio=0.5, joint_ratio=0.5, strategy="grid"), "strategy"),
    ],
)
def test_bad_settings_are_rejected_once_with_the_setting_named(kwargs, needle):
    """The mask settings are validated where the run config is built and checked against the
    model's grid (60 frames in tuples of 6, 20 joints), not again per batch."""
    with pytest.raises(ValueError, match=needle):
        MaskConfig(**kwargs).check_against(preset("nw-ucla"))


def _moving_joint_batch(n=300, t=12, v=10, moving=3):
    """``(N, 3, T, V, 2)``: only joint ``moving`` moves, and only in the second half of the frames;
    the second person is padding (zeros)."""
    x = torch.zeros(n, 3, t, v, 2)
    steps = torch.arange(t).clamp_min(t // 2).float() - t // 2
    x[:, 0, :, moving, 0] = steps
    return x


def test_motion_scores_follow_the_motion_and_ignore_the_units():
    x = _moving_joint_batch(n=2)
    frame_scores, joint_scores = motion_scores(x, temperature=0.5)
    assert frame_scores.shape == (2, 12) and joint_scores.shape == (2, 12, 10)
    assert joint_scores[0, :, 3].max() > 0 and joint_scores[0, :, :3].abs().max() == 0
    assert frame_scores[0, 8] > frame_scores[0, 2]
    scaled, _ = motion_scores(x * 1000.0, temperature=0.5)
    assert torch.allclose(scaled, frame_scores)
    with pytest.raises(ValueError, match="temperature"):
        motion_scores(x, temperature=0.0)
    # zero padding after the sequence (frames 10-11) and a missing joint are no motion
    padded = x + 1.0
    padded[:, :, 10:] = 0.0
    padded[:, :, 4, 7] = 0.0
    frames, joints = motion_scores(padded, temperature=0.5)
    assert joints[:, 9:, :3].abs().max() == 0 and joints[:, 3:5, 7].abs().max() == 0
    assert frames[0, 8] > 0 and frames[0, 9] == 0  # step 8 -> 9 is real, 9 -> 10 is into padding
    one_frame, per_joint = motion_scores(x[:, :, :1], temperature=0.5)
    assert one_frame.shape == (2, 1) and per_joint.shape == (2, 1, 10) and per_joint.abs().max() == 0


def test_motion_aware_masking_removes_moving_joints_and_frames_more_often():
    x = _moving_joint_batch()
    frame_scores, joint_scores = motion_scores(x, temperature=0.5)
    kwargs = dict(frame_ratio=0.5, joint_ratio=0.5, generator=torch.Generator().manual_seed(0))
    aware = spatial_temporal_mask(300, 12, 10, frame_scores=frame_scores, joint_scores=joint_scores, **kwargs)
    kept_frame = aware.mask.amin(dim=2) == 0  # (N, T)
    assert kept_frame[:, :6].float().mean() > kept_frame[:, 7:].float().mean() + 0.2
    joints_only = dict(kwargs, frame_ratio=0.0)
    aware_joints = spatial_temporal_mask(300, 12, 10, joint_scores=joint_scores, **joints_only)
    joint_removed = aware_joints.mask[:, 7:].mean(dim=(0, 1))  # (V,) over the moving frames
    assert joint_removed[3] > joint_removed[torch.arange(10) != 3].max() + 0.2
    # the counts stay those of uniform masking: a regular visible grid
    assert aware.kept_frames.shape == (300, 6) and aware.kept_joints.shape == (300, 6, 5)
    fixed = spatial_temporal_mask(
        300, 12, 10, strategy="fixed", frame_scores=frame_scores, joint_scores=joint_scores, **kwargs
    )
    assert torch.equal(fixed.kept_joints, fixed.kept_joints[:, :1].expand_as(fixed.kept_joints))


def test_zero_scores_draw_as_often_as_uniform_and_bad_shapes_are_named():
    zeros = torch.zeros(400, 12)
    result = spatial_temporal_mask(400, 12, 10, frame_ratio=0.5, joint_ratio=0.5, frame_scores=zeros)
    frame_rate = (result.mask.amin(dim=2) == 1).float().mean(dim=0)
    assert frame_rate.sub(0.5).abs().max() < 0.15
    with pytest.raises(ValueError, match="joint_scores"):
        spatial_temporal_mask(2, 12, 10, frame_ratio=0.5, joint_ratio=0.5, joint_scores=torch.zeros(2, 12))
