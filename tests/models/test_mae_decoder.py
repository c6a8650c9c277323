"""Decoder and SkeletonMAE: placement, parameter counts, loss, determinism, persons."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.masking import spatial_temporal_mask
from skeletonmae.models import MaskConfig, preset
from skeletonmae.models.decoder import ReconstructionDecoder, grid_position_embedding
from skeletonmae.models.mae import SkeletonMAE


def expected_decoder_params(width, depth, *, encoder_dim=256, heads=3, slots=150, coords=3):
    """Closed form: per block 1x1 q/k conv, alpha, att0, (1,5) conv, 1x1 ff, (3,1) conv, 3 BNs."""
    qk = width // 4
    block = (
        (width * 2 * heads * qk + 2 * heads * qk)
        + heads
        + heads * slots * slots
        + (heads * width * width * 5 + width)
        + (width * width + width)
        + (width * width * 3 + width)
        + 3 * 2 * width
    )
    return encoder_dim * width + width + width + depth * block + width * coords + coords


@pytest.mark.parametrize("width,approx_millions", [(128, 3.68), (256, 12.79), (512, 49.16)])
def test_decoder_parameter_count_at_the_paper_widths(width, approx_millions):
    decoder = ReconstructionDecoder(preset("ntu60", decoder_width=width))
    total = sum(p.numel() for p in decoder.parameters())
    assert total == expected_decoder_params(width, 9)
    assert abs(total / 1e6 - approx_millions) < 0.01


def test_decoder_places_visible_tokens_and_fills_the_rest_with_the_mask_token():
    config = tiny_config()
    decoder = ReconstructionDecoder(config)
    masking = spatial_temporal_mask(
        2, 12, 5, frame_ratio=0.5, joint_ratio=0.4, generator=torch.Generator().manual_seed(0)
    )
    features = torch.randn(2, 12, 2, 9)  # (B, D_enc, Tv/L, L*Vv)
    with torch.no_grad():
        grid = decoder.to_grid(features, masking.kept_frames, masking.kept_joints)
        grid = grid - grid_position_embedding(8, 12, 5)
        projected = decoder.encoder_to_decoder(features).view(2, 8, 6, 3)
    for n in range(2):
        for i, t in enumerate(masking.kept_frames[n]):
            for j, v in enumerate(masking.kept_joints[n, i]):
                assert torch.allclose(grid[n, :, t, v], projected[n, :, i, j], atol=1e-6)
    removed = masking.mask.bool().unsqueeze(1).expand_as(grid)
    token = decoder.mask_token.view(1, 8, 1, 1).expand_as(grid)
    assert torch.allclose(grid[removed], token[removed].detach(), atol=1e-6)


def manual_loss(out, x, loss_on):
    error = (out.reconstruction - x).pow(2).mean(dim=1)  # (N, T, V, M)
    present = x.ne(0).any(dim=(1, 2, 3))  # (N, M)
    weight = present[:, None, None, :].float().expand_as(error)
    if loss_on == "masked":
        weight = weight * out.mask.unsqueeze(3)
    return (error * weight).sum() / weight.sum()


@pytest.mark.parametrize("loss_on", ["masked", "all"])
def test_mae_outputs_loss_and_gradients(loss_on):
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig(loss_on=loss_on))
    x = skeleton_batch(config, n=3, second_person=(True, False, False))
    out = mae(x, generator=torch.Generator().manual_seed(1))
    assert out.reconstruction.shape == x.shape and out.mask.shape == (3, 12, 5)
    assert out.mask.mean().item() == pytest.approx(1 - (6 * 2) / (12 * 5))  # 3 of 5 joints removed
    assert torch.allclose(out.loss, manual_loss(out, x, loss_on), rtol=1e-5)
    assert not out.reconstruction[1:, ..., 1].any()  # absent persons are not reconstructed
    out.loss.backward()
    missing = [n for n, p in mae.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []
    assert all(k.startswith(("encoder.", "decoder.")) for k in mae.state_dict())


def test_mae_same_generator_same_result():
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig()).eval()
    x = skeleton_batch(config)
    a = mae(x, generator=torch.Generator().manual_seed(4))
    b = mae(x, generator=torch.Generator().manual_seed(4))
    c = mae(x, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.loss, b.loss) and torch.equal(a.mask, b.mask)
    assert not torch.equal(a.mask, c.mask)


def test_mae_skipping_padded_persons_equals_computing_every_person():
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig(frame_ratio=0.5, joint_ratio=0.4, loss_on="masked")).eval()
    randomize_parameters(mae, seed=2)
    x = skeleton_batch(config, n=4, second_person=(True, False, True, False))
    out = mae(x, generator=torch.Generator().manual_seed(0))
    # reference: every person through encoder and decoder with the same mask
    masking = spatial_temporal_mask(
        4, 12, 5, frame_ratio=0.5, joint_ratio=0.4, generator=torch.Generator().manual_seed(0)
    )
    rows = x.permute(0, 4, 1, 2, 3).reshape(8, 3, 12, 5)
    frames = masking.kept_frames.repeat_interleave(2, dim=0)
    joints = masking.kept_joints.repeat_interleave(2, dim=0)
    with torch.no_grad():
        every = mae.decoder(mae.encoder(rows, frames, joints), frames, joints)
    every = every.view(4, 2, 3, 12, 5).permute(0, 2, 3, 4, 1)
    present = torch.tensor([[1, 1], [1, 0], [1, 1], [1, 0]], dtype=torch.bool)
    expected = every * present[:, None, None, None, :]
    assert torch.allclose(out.reconstruction, expected, atol=1e-5)
    assert torch.allclose(
        out.loss, manual_loss(out._replace(reconstruction=expected), x, "masked"), rtol=1e-5
    )


TINY = dict(stages=tiny_config().stages, decoder_width=8, decoder_depth=1)


@pytest.mark.parametrize(
    "name,overrides", [("ntu60", TINY), ("ntu120", TINY), ("nw-ucla", TINY), ("cpu-small", {})]
)
def test_every_preset_pretrains_forward_and_backward(name, overrides):
    config = preset(name, **overrides)
    mae = SkeletonMAE(config, MaskConfig(frame_ratio=0.5, joint_ratio=0.5))
    x = skeleton_batch(config, n=2)
    out = mae(x)
    assert out.reconstruction.shape == x.shape and torch.isfinite(out.loss)
    out.loss.backward()
    assert mae.encoder.blocks[0].to_query_key.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("frame_ratio", [0.4, 0.5, 0.6])
def test_nw_ucla_accepts_the_paper_frame_ratios(frame_ratio):
    MaskConfig(frame_ratio=frame_ratio).check_against(preset("nw-ucla"))
    MaskConfig(frame_ratio=frame_ratio).check_against(preset("ntu60"))


def test_mae_rejects_masking_that_breaks_tuples_or_masks_nothing():
    with pytest.raises(ValueError, match="tuple_len"):
        SkeletonMAE(preset("nw-ucla"), MaskConfig(frame_ratio=0.25))
    with pytest.raises(ValueError, match="loss_on"):
        SkeletonMAE(tiny_config(), MaskConfig(frame_ratio=0.0, joint_ratio=0.0, loss_on="masked"))
    mae = SkeletonMAE(tiny_config(), MaskConfig(frame_ratio=0.0, joint_ratio=0.0, loss_on="all"))
    assert torch.isfinite(mae(skeleton_batch(tiny_config())).loss)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_mae_pretrains_under_cpu_autocast(dtype):
    """Mixed precision: the fp32 mask token meets low-precision features in the decoder."""
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig())
    x = skeleton_batch(config, n=2)
    with torch.autocast("cpu", dtype=dtype):
        out = mae(x, generator=torch.Generator().manual_seed(0))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert mae.decoder.mask_token.grad is not None
