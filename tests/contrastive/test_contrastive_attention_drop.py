"""AimCLR's energy-based attention drop on a hand-made feature map with a known answer."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.contrastive.attention_drop import attention_drop, attention_drop_tuples, energy_attention
from skeletonmae.run_config import AttentionDropConfig

CONFIG = AttentionDropConfig()


def salient_joint_map() -> torch.Tensor:
    """(1, 1, 4 frames, 5 joints): every cell 1, joint 2 is 10 in every frame."""
    features = torch.ones(1, 1, 4, 5)
    features[..., 2] = 10.0
    return features


def test_energy_attention_is_highest_far_from_the_mean() -> None:
    attention = energy_attention(salient_joint_map(), CONFIG.energy_lambda)
    # mean 2.8; squared deviations 3.24 and 51.84; variance (16*3.24 + 4*51.84)/19
    variance = (16 * 3.24 + 4 * 51.84) / 19
    expected_other = torch.sigmoid(torch.tensor(3.24 / (4 * (variance + 1e-4)) + 0.5))
    expected_salient = torch.sigmoid(torch.tensor(51.84 / (4 * (variance + 1e-4)) + 0.5))
    assert torch.allclose(attention[..., 0], expected_other.expand(1, 1, 4), atol=1e-5)
    assert torch.allclose(attention[..., 2], expected_salient.expand(1, 1, 4), atol=1e-5)
    assert expected_other < 0.7 < expected_salient


def test_attention_drop_removes_the_salient_joint_and_rescales_the_rest() -> None:
    out = attention_drop(salient_joint_map(), CONFIG)
    # joint drop keeps 4 of 5 joints (x 5/4); cell drop keeps 16 of 20 cells (x 20/16)
    expected = torch.full((1, 1, 4, 5), 1.0 * 5 / 4 * 20 / 16)
    expected[..., 2] = 0.0
    assert torch.allclose(out, expected)


def test_attention_drop_is_per_sample_and_passes_gradient_to_kept_features() -> None:
    uniform = torch.ones(1, 1, 4, 5)  # nothing salient: nothing dropped
    features = torch.cat([salient_joint_map(), uniform]).requires_grad_(True)
    out = attention_drop(features, CONFIG)
    assert torch.allclose(out[1], uniform[0]), "a sample's drop must not depend on the other samples"
    out.sum().backward()
    assert (features.grad[0, ..., 2] == 0).all() and (features.grad[0, ..., 0] > 0).all()


def test_tuple_layout_is_viewed_as_frames_by_joints() -> None:
    tuple_length, joints = 3, 5
    frames_by_joints = torch.randn(2, 4, 6, joints, generator=torch.Generator().manual_seed(0))
    frames_by_joints[:, :, :, 1] += 8.0  # joint 1 salient in every frame
    tuples = frames_by_joints.reshape(2, 4, 2, tuple_length * joints)  # (B, C, T/L, L*V)
    out = attention_drop_tuples(tuples, tuple_length, CONFIG)
    assert out.shape == tuples.shape
    assert torch.equal(out.reshape(2, 4, 6, joints), attention_drop(frames_by_joints, CONFIG))
    assert (out.reshape(2, 4, 6, joints)[..., 1] == 0).all()
    with pytest.raises(ValueError, match="L = 4"):
        attention_drop_tuples(tuples, 4, CONFIG)


def test_config_rejects_thresholds_that_drop_everything() -> None:
    with pytest.raises(ValueError, match="threshold"):
        AttentionDropConfig(threshold=0.5)
