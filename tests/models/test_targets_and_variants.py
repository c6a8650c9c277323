"""Reconstruction targets, the trivial predictors on the model's own masks and the
visible-attention rescale."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import attend, randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.models.sttformer import STTABlock
from skeletonmae.models.targets import (
    apply_target,
    baseline_errors,
    interpolation_fill,
    masked_mse,
    reconstruction_target,
    static_pose_fill,
    target_to_coordinates,
)
from skeletonmae.run_config import MaskConfig


def test_interpolation_fill_is_linear_between_visible_frames_and_constant_at_the_ends():
    x = torch.arange(6.0).view(1, 1, 6, 1).repeat(1, 2, 1, 1) * 2  # (1, 2, 6, 1): 0, 2, .., 10
    visible = torch.tensor([False, True, False, False, True, False]).view(1, 6, 1)
    filled = interpolation_fill(x, visible)[0, 0, :, 0]
    assert torch.allclose(filled, torch.tensor([2.0, 2.0, 4.0, 6.0, 8.0, 8.0]))
    static = static_pose_fill(x, visible)[0, 0, :, 0]
    assert torch.allclose(static, torch.tensor([5.0, 2.0, 5.0, 5.0, 8.0, 5.0]))


def test_a_joint_never_visible_falls_back_to_the_static_pose_and_visible_tokens_stay():
    x = torch.randn(2, 3, 8, 4)
    visible = torch.rand(2, 8, 4) > 0.5
    visible[:, :, 2] = False
    filled = interpolation_fill(x, visible)
    assert torch.equal(filled[visible.unsqueeze(1).expand_as(x)], x[visible.unsqueeze(1).expand_as(x)])
    assert torch.equal(filled[:, :, :, 2], torch.zeros(2, 3, 8))


def test_normalized_target_standardises_each_joint_tuple_patch():
    x = torch.randn(2, 3, 12, 5) * 4 + 7
    target, stats = reconstruction_target(x, "coordinates", True, tuple_len=3)
    patches = target.view(2, 3, 4, 3, 5)
    assert torch.allclose(patches.mean(dim=(1, 3)), torch.zeros(2, 4, 5), atol=1e-5)
    assert torch.allclose(patches.var(dim=(1, 3), unbiased=False), torch.ones(2, 4, 5), atol=1e-3)
    assert torch.allclose(apply_target(x, "coordinates", stats, 3), target)
    motion, _ = reconstruction_target(x, "motion", False, tuple_len=3)
    assert torch.allclose(motion[:, :, 0], x[:, :, 1] - x[:, :, 0])
    assert not motion[:, :, -1].any()


@pytest.mark.parametrize(
    "mask_config",
    [
        MaskConfig(0.5, 0.4, loss_on="masked"),
        MaskConfig(0.5, 0.4, loss_on="all", target="motion", normalize_target=True),
        MaskConfig(0.5, 0.4, loss_on="masked", strategy="fixed", normalize_target=True),
        MaskConfig(0.5, 0.4, loss_on="masked", motion_temperature=0.75),
    ],
)
def test_baselines_are_computed_on_exactly_the_masks_the_model_saw(mask_config):
    config = tiny_config()
    mae = SkeletonMAE(config, mask_config).eval()
    x = skeleton_batch(config, n=3, second_person=(True, False, True))
    out = mae(x, generator=torch.Generator().manual_seed(5), with_baselines=True)
    # Redraw the same mask from the same seed, and compute the predictors by hand on it.
    masking = mae.draw_mask(x, torch.Generator().manual_seed(5))
    assert torch.equal(masking.mask, out.mask)
    rows = torch.stack([x[0, ..., 0], x[0, ..., 1], x[1, ..., 0], x[2, ..., 0], x[2, ..., 1]])
    removed = masking.mask[torch.tensor([0, 0, 1, 2, 2])]
    target, stats = reconstruction_target(
        rows, mask_config.target, mask_config.normalize_target, config.tuple_len
    )
    expected = baseline_errors(rows, removed, mask_config.target, stats, config.tuple_len)
    for name in ("static", "interp"):
        assert torch.allclose(out.errors[name], expected[name])
    predicted = torch.stack(
        [
            out.reconstruction[0, ..., 0],
            out.reconstruction[0, ..., 1],
            out.reconstruction[1, ..., 0],
            out.reconstruction[2, ..., 0],
            out.reconstruction[2, ..., 1],
        ]
    )
    assert torch.allclose(out.errors["model"], masked_mse(predicted, target, removed), atol=1e-6)
    if mask_config.loss_on == "masked":
        assert torch.allclose(out.loss, out.errors["model"], atol=1e-6)


def _block_output_scale(rescale: bool, kept_joints: int) -> float:
    torch.manual_seed(0)
    block = STTABlock(8, 8, 2, num_slots=30, num_heads=3, visible_attention_rescale=rescale)
    with torch.no_grad():
        block.to_query_key.weight.zero_()  # isolate the static map's sum over tokens
        block.to_query_key.bias.zero_()
    block.eval()
    x = torch.randn(16, 8, 4, 30).abs()
    ids = torch.stack([torch.randperm(30)[:kept_joints].sort().values for _ in range(16 * 4)])
    ids = ids.view(16, 4, kept_joints)
    tokens = x.gather(3, ids.unsqueeze(1).expand(16, 8, 4, kept_joints))
    attended = attend(block, tokens, ids)  # (B, H*C, K, Sv)
    return attended.abs().mean().item()


def test_visible_and_full_grid_encoders_agree_at_zero_masking():
    config = tiny_config()
    encoder = SkeletonEncoder(config)
    randomize_parameters(encoder, seed=2)
    encoder.eval()
    rows = skeleton_batch(config, n=2)[..., 0]
    everything = torch.arange(config.num_frames).expand(2, -1)
    joints = torch.arange(config.num_joints).expand(2, config.num_frames, -1)
    with torch.no_grad():
        assert torch.allclose(encoder(rows, everything, joints), encoder(rows), atol=1e-5)


def test_visible_attention_rescale_keeps_the_output_scale_independent_of_visible_tokens():
    full, few = _block_output_scale(True, 30), _block_output_scale(True, 10)
    assert few == pytest.approx(full, rel=0.15)
    plain_full, plain_few = _block_output_scale(False, 30), _block_output_scale(False, 10)
    assert plain_few < 0.5 * plain_full  # without it the sum shrinks with the visible count


@pytest.mark.parametrize("target", ["coordinates", "motion"])
@pytest.mark.parametrize("normalize", [False, True])
def test_the_true_target_maps_back_to_the_true_coordinates(target, normalize):
    x = torch.randn(2, 3, 12, 5, dtype=torch.float64)
    visible = torch.rand(2, 12, 5) > 0.6
    visible[:, :, 0] = False  # a joint never visible
    visible[:, :3, 1] = False  # a joint first visible later
    y, stats = reconstruction_target(x, target, normalize, 6)
    back = target_to_coordinates(y, x, stats, target, visible, 6)
    assert torch.allclose(back, x, atol=1e-9)


def test_predicted_motion_is_integrated_from_each_joints_visible_positions():
    x = torch.zeros(1, 1, 6, 1)
    visible = torch.tensor([False, True, False, False, True, False]).view(1, 6, 1)
    step = torch.full((1, 1, 6, 1), 2.0)  # predicted motion: +2 every frame
    _, stats = reconstruction_target(x, "motion", False, 6)
    positions = target_to_coordinates(step, x, stats, "motion", visible, 6)[0, 0, :, 0]
    assert torch.equal(positions, torch.tensor([-2.0, 0.0, 2.0, 4.0, 0.0, 2.0]))
