"""The official STTFormer block formulation, kept as the reference that ours is checked and timed
against: einsums, a repeated static map, a ``.contiguous()`` copy of the attended
tensor, every intermediate stored by autograd. Same parameters as :class:`STTABlock`; the full
grid with the shared map only (the official code has no other)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from skeletonmae.models.sttformer import LEAKY_SLOPE, STTABlock

__all__ = ["official_attention", "official_block_forward"]


def official_attention(block: STTABlock, x: torch.Tensor) -> torch.Tensor:
    """Tuple attention as the official code writes it: ``(B, C, K, S) -> (B, H*C, K, S)``."""
    b, c, k, s = x.shape
    h, d = block.num_heads, block.qk_dim
    embedded = x + block.slot_embedding[:, None, :] if block.use_slot_embedding else x
    q, key = torch.chunk(block.to_query_key(embedded).view(b, 2 * h, d, k, s), 2, dim=1)
    attention = torch.tanh(torch.einsum("nhdku,nhdkv->nhuv", q, key) / (d * k)) * block.alpha
    attention = block.attention_dropout(attention + block.static_attention.repeat(b, 1, 1, 1))
    return torch.einsum("ncku,nhuv->nhckv", x, attention).contiguous().view(b, h * c, k, s)


def official_block_forward(block: STTABlock, x: torch.Tensor) -> torch.Tensor:
    """``block`` on the full grid in the official formulation: ``(B, C_in, K, S) -> (B, C_out, K, S)``."""
    residual = block.attention_residual(x)
    y = F.leaky_relu(block.slot_conv(official_attention(block, x)) + residual, LEAKY_SLOPE)
    y = F.leaky_relu(block.feed_forward(y) + residual, LEAKY_SLOPE)
    return F.leaky_relu(block.tuple_conv(y) + block.tuple_residual(y), LEAKY_SLOPE)
