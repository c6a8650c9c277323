"""The visible-token encoder: alpha = beta = 0 equivalence with STTFormer, identity, no leakage."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.masking import spatial_temporal_mask
from skeletonmae.models.encoder import SkeletonEncoder, visible_slot_ids
from skeletonmae.models.sttformer import STTFormer


def encoder_with_sttformer_weights(config):
    sttformer = STTFormer(config)
    randomize_parameters(sttformer, seed=3)
    sttformer.eval()
    encoder = SkeletonEncoder(config).eval()
    weights = {k: v for k, v in sttformer.state_dict().items() if not k.startswith("fc.")}
    result = encoder.load_state_dict(weights, strict=False)
    assert result.missing_keys == ["frame_embedding"] and result.unexpected_keys == []
    assert not encoder.frame_embedding.any()  # starts at zero: nothing added
    return sttformer, encoder


def folded(x):
    n, c, t, v, m = x.shape
    return x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)


@pytest.mark.parametrize("strategy", ["random", "fixed"])
def test_alpha_beta_zero_visible_encoder_equals_faithful_sttformer(strategy):
    config = tiny_config()
    sttformer, encoder = encoder_with_sttformer_weights(config)
    x = skeleton_batch(config, n=3)
    rows = folded(x)
    masking = spatial_temporal_mask(
        rows.shape[0],
        config.num_frames,
        config.num_joints,
        frame_ratio=0.0,
        joint_ratio=0.0,
        strategy=strategy,
    )
    with torch.no_grad():
        expected = sttformer.forward_features(x)  # (N*M, D, K, S)
        visible = encoder(rows, masking.kept_frames, masking.kept_joints)
        full = encoder(rows)
    assert visible.shape == expected.shape == (6, 12, 4, 15)
    assert torch.allclose(visible, expected, atol=1e-5, rtol=1e-5)
    assert torch.allclose(full, expected, atol=1e-5, rtol=1e-5)


def test_equivalence_also_holds_in_training_mode_batch_statistics():
    config = tiny_config()
    sttformer, encoder = encoder_with_sttformer_weights(config)
    sttformer.train(), encoder.train()
    x = skeleton_batch(config, n=2)
    everything = torch.arange(config.num_frames).expand(4, -1)
    joints = torch.arange(config.num_joints).expand(4, config.num_frames, -1)
    with torch.no_grad():
        assert torch.allclose(
            encoder(folded(x), everything, joints), sttformer.forward_features(x), atol=1e-4
        )


def test_visible_output_shape_and_no_leakage_from_masked_tokens():
    config = tiny_config()
    encoder = SkeletonEncoder(config).eval()
    randomize_parameters(encoder, seed=5)
    rows = folded(skeleton_batch(config, n=2))
    masking = spatial_temporal_mask(
        4, 12, 5, frame_ratio=0.5, joint_ratio=0.4, generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        out = encoder(rows, masking.kept_frames, masking.kept_joints)
        changed = rows + 100.0 * masking.mask.unsqueeze(1)  # alter only removed tokens
        out_changed = encoder(changed, masking.kept_frames, masking.kept_joints)
    assert out.shape == (4, 12, 6 // 3, 3 * 3)  # Tv = 6 frames, Vv = 3 joints
    assert torch.equal(out, out_changed)


def test_temporal_embedding_reaches_the_model_at_the_original_frame():
    config = tiny_config(stages=tiny_config().stages[:1])
    encoder = SkeletonEncoder(config).eval()
    rows = folded(skeleton_batch(config, n=1))[:1]
    joints = torch.arange(5).expand(1, 3, 5)
    early, late = torch.tensor([[0, 1, 2]]), torch.tensor([[6, 7, 8]])
    with torch.no_grad():
        encoder.frame_embedding[:, 6:9] = 1.0
        shifted = rows.clone()
        shifted[:, :, 6:9] = rows[:, :, 0:3]  # same coordinates at later frames
        a = encoder(rows, early, joints)
        b = encoder(shifted, late, joints)
        encoder.frame_embedding.zero_()
        c = encoder(shifted, late, joints)
    assert not torch.allclose(a, b)  # the original time matters...
    assert torch.allclose(a, c, atol=1e-6)  # ...only through the frame embedding


def test_slot_ids_follow_frame_within_tuple_and_joint():
    kept_frames = torch.tensor([[1, 2, 6, 11]])
    kept_joints = torch.tensor([[[0, 3], [1, 2], [0, 4], [3, 4]]])
    ids = visible_slot_ids(kept_frames, kept_joints, num_joints=5, tuple_len=2)
    # frame 1 -> position 1, frame 2 -> 0, frame 6 -> 0, frame 11 -> 1
    assert ids.tolist() == [[[5, 8, 1, 2], [0, 4, 8, 9]]]


def test_bad_inputs_name_the_setting():
    config = tiny_config()
    encoder = SkeletonEncoder(config)
    with pytest.raises(ValueError, match="num_joints"):
        encoder(torch.randn(2, 3, 12, 6))
    with pytest.raises(ValueError, match="tuple_len"):
        encoder(torch.randn(2, 3, 12, 5), torch.arange(4).expand(2, 4), torch.arange(5).expand(2, 4, 5))
