"""The faithful STTFormer: exact parameter counts, the tuple-attention formula, init."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import attend, randomize_parameters, skeleton_batch, tiny_config
from torch import nn

from skeletonmae.models import preset
from skeletonmae.models.reference import official_attention
from skeletonmae.models.sttformer import STTABlock, STTFormer, sinusoidal_table


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name,expected", [("ntu60", 6_233_588), ("ntu120", 6_249_008)])
def test_faithful_sttformer_has_the_official_parameter_count(name, expected):
    model = STTFormer(preset(name))
    assert count(model) == expected
    assert len(model.blocks) == 8
    widths = [(b.in_channels, b.out_channels, b.qk_dim) for b in model.blocks]
    assert (
        widths == [(64, 64, 16)] * 2 + [(64, 128, 32), (128, 128, 32), (128, 256, 64)] + [(256, 256, 64)] * 3
    )


def test_batched_matmul_attention_matches_the_einsum_formula():
    torch.manual_seed(0)
    block = STTABlock(6, 10, 4, num_slots=8, num_heads=3)
    randomize_parameters(block)
    x = torch.randn(2, 6, 5, 8)
    assert torch.allclose(attend(block, x), official_attention(block, x), atol=1e-5)


def loop_visible_attention(block: STTABlock, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Direct definition with loops: for the token pair (u, v) of tuple k, the dynamic logit sums
    q_i . k_j over every tuple k' and every token pair (i, j) of k' carrying ids (id_u, id_v)."""
    b, c, k, sv = x.shape
    h, d = block.num_heads, block.qk_dim
    embedded = x + block.slot_embedding[:, ids].permute(1, 0, 2, 3)
    q, kk = torch.chunk(block.to_query_key(embedded).view(b, 2 * h, d, k, sv), 2, dim=1)
    out = torch.zeros(b, h, c, k, sv)
    for n in range(b):
        for t in range(k):
            for u in range(sv):
                for v in range(sv):
                    a, z = ids[n, t, u], ids[n, t, v]
                    logit = torch.zeros(h)
                    for t2 in range(k):
                        i = (ids[n, t2] == a).nonzero().flatten()
                        j = (ids[n, t2] == z).nonzero().flatten()
                        for ii in i:
                            for jj in j:
                                logit += (q[n, :, :, t2, ii] * kk[n, :, :, t2, jj]).sum(1)
                    weight = (
                        torch.tanh(logit / (d * k)) * block.alpha.view(h) + block.static_attention[0, :, a, z]
                    )
                    out[n, :, :, t, v] += weight[:, None] * x[n, None, :, t, u]
    return out.reshape(b, h * c, k, sv)


def test_visible_attention_follows_token_identity():
    torch.manual_seed(1)
    block = STTABlock(4, 4, 2, num_slots=6, num_heads=2)
    randomize_parameters(block)
    x = torch.randn(2, 4, 3, 4)
    ids = torch.tensor(
        [
            [[0, 2, 3, 5], [1, 2, 4, 5], [0, 0, 3, 4]],  # repeated id in a tuple
            [[5, 4, 3, 2], [0, 1, 2, 3], [1, 3, 4, 5]],
        ]
    )
    expected = loop_visible_attention(block, x, ids)
    assert torch.allclose(attend(block, x, ids), expected, atol=1e-5)


def test_visible_path_with_every_id_in_order_equals_the_full_path():
    block = STTABlock(6, 6, 3, num_slots=10, num_heads=3).eval()
    randomize_parameters(block)
    x = torch.randn(3, 6, 4, 10)
    ids = torch.arange(10).expand(3, 4, 10)
    assert torch.allclose(block(x, ids), block(x), atol=1e-5)


def test_slot_embedding_is_the_interleaved_sinusoid():
    table = sinusoidal_table(7, 6)  # (C, P)
    assert table.shape == (6, 7)
    assert torch.allclose(table[0], torch.sin(torch.arange(7.0)))
    assert torch.allclose(table[1], torch.cos(torch.arange(7.0)))
    assert torch.allclose(table[4], torch.sin(torch.arange(7.0) * 10000 ** (-4 / 6)))


def test_official_initialisation():
    model = STTFormer(tiny_config())
    block = model.blocks[1]
    assert torch.equal(block.alpha, torch.ones_like(block.alpha))
    assert torch.allclose(block.static_attention, torch.full_like(block.static_attention, 1 / 15))
    bn = block.slot_conv[1]
    assert torch.equal(bn.weight, torch.ones_like(bn.weight)) and not bn.bias.any()
    assert not model.fc.bias.any()
    conv = block.feed_forward[0].weight  # kaiming fan_out: std sqrt(2 / fan_out)
    assert abs(conv.std().item() - (2 / conv.shape[0]) ** 0.5) < 0.25 * (2 / conv.shape[0]) ** 0.5


def test_faithful_forward_backward_and_mean_over_all_persons():
    config = tiny_config()
    model = STTFormer(config)
    x = skeleton_batch(config)
    logits = model(x)
    assert logits.shape == (3, config.num_classes)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    features = model.forward_features(x)  # (N*M, D, K, S)
    assert features.shape == (6, 12, 4, 15)
    pooled = features.mean(dim=(2, 3)).view(3, 2, -1).mean(1)
    assert torch.allclose(model(x), model.fc(pooled), atol=1e-6)
