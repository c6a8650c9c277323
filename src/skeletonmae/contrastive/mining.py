"""Positive mining in the key queue: AimCLR's nearest neighbours and CrosSCLR's cross-view knowledge.

Both turn raw query-to-queue similarities ``(B, K)`` into a 0/1 positive mask over the logits
``(B, 1 + K)`` (column 0, the own key, always positive) for ``multi_positive_nce_loss``. AimCLR: the
top-k queue keys of the normal, extreme and dropped queries together. CrosSCLR: view ``b``'s top-k,
found in ``b``'s space, are positives of view ``a`` (the queues are filled together, so index ``i``
is one sample in every view); with ``context`` the products of the two views' similarities are
extra logits with the same positives, so ``a`` also follows ``b``'s similarity distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from skeletonmae.contrastive.moco import multi_positive_nce_loss


@dataclass(frozen=True)
class QueueSimilarities:
    """Raw (not temperature-scaled) cosine similarities of one view's queries to their own keys,
    ``positive (B, 1)``, and to every key in the queue, ``negative (B, K)``."""

    positive: torch.Tensor
    negative: torch.Tensor


def top_k_mask(similarities: torch.Tensor, k: int) -> torch.Tensor:
    """``(B, K)`` similarities -> ``(B, K)`` float 0/1 mask of each row's ``k`` largest entries."""
    if not 1 <= k <= similarities.shape[1]:
        raise ValueError(f"top_k_mask: k = {k} must be in [1, {similarities.shape[1]}] (the queue size)")
    indices = similarities.detach().topk(k, dim=1).indices
    return torch.zeros_like(similarities, dtype=torch.float32).scatter_(1, indices, 1.0)


def with_own_key(mined: torch.Tensor, copies: int = 1) -> torch.Tensor:
    """Prepend the always-positive own-key column to ``copies`` repetitions of a ``(B, K)`` mined mask."""
    own = torch.ones(mined.shape[0], 1, dtype=mined.dtype, device=mined.device)
    return torch.cat([own] + [mined] * copies, dim=1)


def nearest_neighbour_positive_mask(negatives: Sequence[torch.Tensor], k: int) -> torch.Tensor:
    """AimCLR's positive set: own key plus the union of each ``(B, K)`` similarity's top-k. ->
    ``(B, 1+K)``."""
    mined = torch.zeros_like(negatives[0], dtype=torch.float32)
    for similarities in negatives:
        mined = torch.maximum(mined, top_k_mask(similarities, k))
    return with_own_key(mined)


def cross_view_logits_and_mask(
    own: QueueSimilarities, other: QueueSimilarities, k: int, temperature: float, context: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """CrosSCLR's logits of view ``own`` with positives mined in view ``other``.

    Returns ``(logits, positive_mask)``, both ``(B, 1+2K)`` with context or ``(B, 1+K)`` without.
    """
    mined = top_k_mask(other.negative, k)  # (B, K) chosen in the other view's space
    columns = [own.positive, own.negative]
    if context:
        columns.append(own.negative * other.negative)  # (B, K) agreement of the two views
    logits = torch.cat(columns, dim=1) / temperature
    return logits, with_own_key(mined, copies=2 if context else 1)


def cross_view_losses(
    similarities: Mapping[str, QueueSimilarities], k: int, temperature: float, context: bool
) -> dict[str, torch.Tensor]:
    """For every view ``a``: the mean over the other views ``b`` of the multi-positive NCE with
    ``b``'s positives."""
    if len(similarities) < 2:
        raise ValueError(f"cross_view_losses: expected at least two views, got {list(similarities)}")
    losses = {}
    for view, own in similarities.items():
        terms = [
            multi_positive_nce_loss(*cross_view_logits_and_mask(own, other, k, temperature, context))
            for other_view, other in similarities.items()
            if other_view != view
        ]
        losses[view] = torch.stack(terms).mean()
    return losses
