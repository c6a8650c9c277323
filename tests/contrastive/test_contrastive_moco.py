"""MoCo machinery: queue updates, momentum encoder, InfoNCE and the D3M term."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skeletonmae.contrastive.moco import (
    KeyQueue,
    ProjectionHead,
    contrastive_logits,
    copy_parameters_,
    distribution_divergence_loss,
    info_nce_loss,
    momentum_update_,
    multi_positive_nce_loss,
)


def unit_rows(count: int, dim: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(count, dim, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_queue_starts_with_unit_keys_and_enqueues_fifo_with_wraparound() -> None:
    queue = KeyQueue(size=10, dim=4, generator=torch.Generator().manual_seed(0))
    assert queue.keys.shape == (10, 4)
    assert torch.allclose(queue.keys.norm(dim=1), torch.ones(10))
    initial = queue.keys.clone()
    first, second, third = unit_rows(4, 4, 1), unit_rows(4, 4, 2), unit_rows(4, 4, 3)
    queue.enqueue(first)
    assert int(queue.pointer) == 4
    assert torch.equal(queue.keys[:4], first) and torch.equal(queue.keys[4:], initial[4:])
    queue.enqueue(second)
    queue.enqueue(third)  # slots 8, 9, then wraps to 0, 1
    assert int(queue.pointer) == 2
    assert torch.equal(queue.keys[8:], third[:2]) and torch.equal(queue.keys[:2], third[2:])
    assert torch.equal(queue.keys[2:4], first[2:]) and torch.equal(queue.keys[4:8], second)


def test_queue_size_32768_holds_only_real_keys_after_a_full_cycle() -> None:
    queue = KeyQueue(size=32768, dim=128)
    batches = [torch.full((4096, 128), float(i)) for i in range(8)]
    for keys in batches:
        queue.enqueue(keys)
    assert int(queue.pointer) == 0
    assert torch.equal(queue.keys, torch.cat(batches))
    state = queue.state_dict()
    assert set(state) == {"keys", "pointer"}, "queue state must be saved in checkpoints"


def test_queue_rejects_wrong_width_and_keeps_the_newest_of_an_oversized_batch() -> None:
    queue = KeyQueue(size=3, dim=2)
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        queue.enqueue(torch.zeros(2, 5))
    keys = torch.arange(10, dtype=torch.float32).view(5, 2)
    queue.enqueue(keys)
    assert torch.equal(queue.keys, keys[2:])


def test_key_encoder_starts_equal_then_follows_with_momentum() -> None:
    torch.manual_seed(0)
    query = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    key = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    copy_parameters_(key, query)
    for (name, k), q in zip(key.named_parameters(), query.parameters()):
        assert torch.equal(k, q), name
        assert not k.requires_grad
    before = [p.clone() for p in key.parameters()]
    with torch.no_grad():
        for p in query.parameters():
            p.add_(1.0)
    momentum_update_(key, query, 0.999)
    for k, old, q in zip(key.parameters(), before, query.parameters()):
        assert torch.allclose(k, 0.999 * old + 0.001 * q)
    momentum_update_(key, query, 0.0)
    assert all(torch.equal(k, q) for k, q in zip(key.parameters(), query.parameters()))


def test_momentum_update_refuses_different_modules() -> None:
    with pytest.raises(ValueError, match="different parameters"):
        momentum_update_(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)), 0.9)


def test_projection_head_maps_to_128_dimensions() -> None:
    head = ProjectionHead(256, 128, mlp=True)
    assert head(torch.randn(3, 256)).shape == (3, 128)
    assert len([m for m in head.modules() if isinstance(m, nn.Linear)]) == 2
    assert len([m for m in ProjectionHead(256, 128, mlp=False).modules() if isinstance(m, nn.Linear)]) == 1


def test_info_nce_logits_and_losses() -> None:
    query, key, queue = unit_rows(4, 8, 0), unit_rows(4, 8, 1), unit_rows(6, 8, 2)
    logits, negative = contrastive_logits(query, key, queue, temperature=0.07)
    assert logits.shape == (4, 7) and negative.shape == (4, 6)
    assert torch.allclose(logits[:, 0], (query * key).sum(1) / 0.07)
    assert torch.allclose(logits[:, 1:], query @ queue.T / 0.07) and torch.allclose(negative, query @ queue.T)
    manual = -torch.log_softmax(logits, dim=1)[:, 0].mean()
    assert torch.allclose(info_nce_loss(logits), manual)
    own_only = torch.zeros_like(logits)
    own_only[:, 0] = 1
    assert torch.allclose(multi_positive_nce_loss(logits, own_only), manual)
    two = own_only.clone()
    two[:, 3] = 1
    expected = -(torch.log_softmax(logits, 1)[:, 0] + torch.log_softmax(logits, 1)[:, 3]).mean() / 2
    assert torch.allclose(multi_positive_nce_loss(logits, two), expected)


def test_distribution_divergence_follows_the_normal_view_without_moving_it() -> None:
    target = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    logits = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    loss = distribution_divergence_loss(logits, target)
    expected = -(torch.softmax(target.detach(), 1) * torch.log_softmax(logits.detach(), 1)).sum()
    assert torch.allclose(loss, expected)
    loss.backward()
    assert target.grad is None and logits.grad is not None
    assert distribution_divergence_loss(target.detach(), target.detach()) < loss
