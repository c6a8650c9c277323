"""Issue 12: reconstruction targets, the trivial predictors on the model's own masks, the
full-grid (mask-token) encoder, whole-tuple frame masking, the visible-attention rescale and
the per-tuple (mask-aware) attention map."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import attend, randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.masking import spatial_temporal_mask
from skeletonmae.models.config import MaskConfig
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.factory import build_classifier, load_pretrained_encoder
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
        MaskConfig(0.5, 0.4, loss_on="masked", encoder_input="full", frame_unit="tuple"),
        MaskConfig(0.5, 0.4, loss_on="all", encoder_input="full", target="motion", normalize_target=True),
        MaskConfig(0.5, 0.4, loss_on="masked", encoder_input="full", target="interp_residual"),
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
        rows, mask_config.target, mask_config.normalize_target, config.tuple_len, visible=removed == 0
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


def test_full_grid_and_visible_token_encoders_agree_at_zero_masking():
    config = tiny_config()
    encoder = SkeletonEncoder(config)
    randomize_parameters(encoder, seed=2)
    encoder.eval()
    rows = skeleton_batch(config, n=2)[..., 0]
    everything = torch.arange(config.num_frames).expand(2, -1)
    joints = torch.arange(config.num_joints).expand(2, config.num_frames, -1)
    nothing_removed = torch.zeros(2, config.num_frames, config.num_joints)
    with torch.no_grad():
        visible = encoder(rows, everything, joints)
        full = encoder.forward_masked_grid(rows, nothing_removed, torch.randn(config.embed_channels))
    assert torch.allclose(full, visible, atol=1e-5)
    assert torch.allclose(full, encoder(rows), atol=1e-5)


def test_full_grid_encoder_sees_only_the_mask_token_at_removed_places():
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig(0.5, 0.4, encoder_input="full", loss_on="masked"))
    x = skeleton_batch(config, n=2)
    out = mae(x, generator=torch.Generator().manual_seed(1))
    changed = x.clone()
    changed[out.mask.bool().unsqueeze(1).unsqueeze(4).expand_as(x)] = 100.0
    again = mae(changed, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.mask, out.mask)
    # Eval mode: BatchNorm does not mix the changed values in through batch statistics.
    mae.eval()
    a = mae(x, generator=torch.Generator().manual_seed(1)).reconstruction
    b = mae(changed, generator=torch.Generator().manual_seed(1)).reconstruction
    assert torch.allclose(a, b)


def test_full_grid_checkpoint_loads_into_a_classifier_ignoring_the_mask_token():
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig(0.5, 0.4, encoder_input="full"))
    report = load_pretrained_encoder(build_classifier(config), mae.state_dict())
    assert "mask_token" in report.ignored


def test_whole_tuple_frame_masking_removes_runs_of_tuple_len_frames():
    masking = spatial_temporal_mask(
        4,
        12,
        5,
        frame_ratio=0.5,
        joint_ratio=0.0,
        tuple_len=3,
        frame_unit_len=3,
        generator=torch.Generator().manual_seed(0),
    )
    kept = masking.kept_frames.view(4, -1, 3)
    assert kept.shape == (4, 2, 3)
    assert torch.equal(kept - kept[:, :, :1], torch.arange(3).expand(4, 2, 3))
    assert torch.equal(kept[:, :, 0] % 3, torch.zeros(4, 2, dtype=torch.long))


def test_full_grid_encoder_accepts_kept_frame_counts_that_are_not_whole_tuples():
    config = tiny_config()
    with pytest.raises(ValueError, match="tuple_len"):
        SkeletonMAE(config, MaskConfig(0.7, 0.4))  # keeps 4 of 12 frames: not whole tuples of 3
    SkeletonMAE(config, MaskConfig(0.9, 0.4, encoder_input="full"))  # keeps 1 frame


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


def test_visible_attention_rescale_keeps_the_output_scale_independent_of_visible_tokens():
    full, few = _block_output_scale(True, 30), _block_output_scale(True, 10)
    assert few == pytest.approx(full, rel=0.15)
    plain_full, plain_few = _block_output_scale(False, 30), _block_output_scale(False, 10)
    assert plain_few < 0.5 * plain_full  # without it the sum shrinks with the visible count


def test_interp_residual_target_makes_a_zero_prediction_the_interpolation_baseline():
    x = torch.randn(3, 3, 12, 5)
    visible = torch.rand(3, 12, 5) > 0.6
    removed = (~visible).float()
    target, stats = reconstruction_target(x, "interp_residual", False, 3, visible=visible)
    errors = baseline_errors(x, removed, "interp_residual", stats, 3)
    assert torch.allclose(masked_mse(torch.zeros_like(x), target, removed), errors["interp"])
    coordinate_error = masked_mse(interpolation_fill(x, visible), x, removed)
    assert torch.allclose(errors["interp"], coordinate_error)
    assert not target[visible.unsqueeze(1).expand_as(x)].any()


def _per_tuple_block(seed: int = 0) -> STTABlock:
    torch.manual_seed(seed)
    block = STTABlock(8, 8, 2, num_slots=30, num_heads=3, attention_map="per_tuple")
    with torch.no_grad():
        block.alpha.normal_()
        block.static_attention.normal_(std=0.1)
    return block.eval()


def test_per_tuple_map_on_a_masked_grid_equals_the_map_on_its_visible_tokens():
    block = _per_tuple_block()
    x = torch.randn(3, 8, 4, 30)
    ids = torch.stack([torch.randperm(30)[:12].sort().values for _ in range(3 * 4)]).view(3, 4, 12)
    visible = torch.zeros(3, 4, 30).scatter(2, ids, 1.0)
    with torch.no_grad():
        on_grid = attend(block, x, None, visible)  # (B, H*C, K, S)
        changed = torch.where(visible.unsqueeze(1) > 0, x, torch.full_like(x, 50.0))
        on_changed = attend(block, changed, None, visible)
        tokens = x.gather(3, ids.unsqueeze(1).expand(3, 8, 4, 12))
        on_visible = attend(block, tokens, ids, None)  # (B, H*C, K, Sv)
    at_visible = on_grid.gather(3, ids.unsqueeze(1).expand(3, 24, 4, 12))
    assert torch.allclose(at_visible, on_visible, atol=1e-5)
    # Removed tokens add nothing to the sums at visible places (their rows are dropped); a
    # removed place's own output still reads its key (there, the mask token's) as a query would.
    changed_at_visible = on_changed.gather(3, ids.unsqueeze(1).expand(3, 24, 4, 12))
    assert torch.allclose(changed_at_visible, at_visible, atol=1e-5)


def test_per_tuple_map_keeps_the_output_scale_independent_of_visible_tokens():
    block = _per_tuple_block()
    with torch.no_grad():
        block.to_query_key.weight.zero_()
        block.to_query_key.bias.zero_()
        block.static_attention.fill_(1.0 / 30)
    x = torch.randn(16, 8, 4, 30).abs()
    scales = []
    for kept in (30, 10):
        ids = torch.stack([torch.randperm(30)[:kept].sort().values for _ in range(64)]).view(16, 4, kept)
        visible = torch.zeros(16, 4, 30).scatter(2, ids, 1.0)
        with torch.no_grad():
            scales.append(attend(block, x, None, visible).abs().mean().item())
    assert scales[1] == pytest.approx(scales[0], rel=0.15)


def test_per_tuple_encoders_agree_at_zero_masking_and_differ_from_the_shared_map():
    config = tiny_config(attention_map="per_tuple")
    encoder = SkeletonEncoder(config)
    randomize_parameters(encoder, seed=3)
    encoder.eval()
    rows = skeleton_batch(config, n=2)[..., 0]
    everything = torch.arange(config.num_frames).expand(2, -1)
    joints = torch.arange(config.num_joints).expand(2, config.num_frames, -1)
    nothing_removed = torch.zeros(2, config.num_frames, config.num_joints)
    shared = SkeletonEncoder(tiny_config())
    shared.load_state_dict(encoder.state_dict())
    shared.eval()
    with torch.no_grad():
        full = encoder(rows)
        assert torch.allclose(encoder(rows, everything, joints), full, atol=1e-5)
        masked_grid = encoder.forward_masked_grid(rows, nothing_removed, torch.randn(config.embed_channels))
        assert torch.allclose(masked_grid, full, atol=1e-5)
        assert not torch.allclose(shared(rows), full, atol=1e-3)


@pytest.mark.parametrize("encoder_input", ["visible", "full"])
def test_per_tuple_mae_trains_one_step(encoder_input: str):
    config = tiny_config(attention_map="per_tuple")
    mae = SkeletonMAE(config, MaskConfig(0.5, 0.4, encoder_input=encoder_input, loss_on="masked"))
    out = mae(skeleton_batch(config, n=2), generator=torch.Generator().manual_seed(0))
    out.loss.backward()
    grads = [p.grad for p in mae.encoder.blocks[0].parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("target", ["coordinates", "motion", "interp_residual"])
@pytest.mark.parametrize("normalize", [False, True])
def test_the_true_target_maps_back_to_the_true_coordinates(target, normalize):
    x = torch.randn(2, 3, 12, 5, dtype=torch.float64)
    visible = torch.rand(2, 12, 5) > 0.6
    visible[:, :, 0] = False  # a joint never visible
    visible[:, :3, 1] = False  # a joint first visible later
    y, stats = reconstruction_target(x, target, normalize, 6, visible)
    back = target_to_coordinates(y, x, stats, target, visible, 6)
    assert torch.allclose(back, x, atol=1e-9)


def test_predicted_motion_is_integrated_from_each_joints_visible_positions():
    x = torch.zeros(1, 1, 6, 1)
    visible = torch.tensor([False, True, False, False, True, False]).view(1, 6, 1)
    step = torch.full((1, 1, 6, 1), 2.0)  # predicted motion: +2 every frame
    _, stats = reconstruction_target(x, "motion", False, 6, visible)
    positions = target_to_coordinates(step, x, stats, "motion", visible, 6)[0, 0, :, 0]
    assert torch.equal(positions, torch.tensor([-2.0, 0.0, 2.0, 4.0, 0.0, 2.0]))
