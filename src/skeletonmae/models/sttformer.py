"""STTFormer building blocks and the faithful STTFormer classifier (Qiu et al., 2022).

Layout inside the network: ``(B, C, K, S)``, ``B`` = samples x persons, ``K`` = tuples of ``L``
frames, ``S`` = slots per tuple, slot id ``= frame_in_tuple * V + joint``. One block
(:class:`STTABlock`) is tuple attention, ONE map per sample and head shared by all tuples,
``A = tanh(sum_{c,k} q[c,k,u] k[c,k,v] / (qk_dim * K)) * alpha + att0`` (q, k from a 1x1 conv of
the input plus a fixed sin-cos slot embedding; no softmax, no value projection) applied to the
block input (``heads * C_in`` channels), a (1, slot_kernel) conv + BN + residual + LeakyReLU(0.1),
a 1x1 conv + BN feed-forward with the *same* residual, then inter-frame aggregation: a
(tuple_kernel, 1) conv + BN over tuples with its own residual.

On *visible tokens* (``slot_ids`` given) tokens keep their identity: the slot embedding and
``att0`` are gathered at their ids, and the dynamic map is computed in the full slot space (q / k
scattered to their ids, absent ids zero) and gathered back; with every token visible this is the
full-grid computation. Memory: the attended tensor is rebuilt in the backward pass
(:func:`~skeletonmae.models.attend_mix.attend_and_convolve`), the embedding's projection is added
after the 1x1 conv (``x + embedding`` is not stored) and the LeakyReLUs run in place; outputs and
gradients equal the plain composition.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from skeletonmae.models.attend_mix import attend_and_convolve
from skeletonmae.run_config import BlockSpec, ModelConfig

__all__ = ["STTABlock", "InputEmbedding", "STTFormer", "sinusoidal_table", "init_sttformer_weights"]

LEAKY_SLOPE = 0.1


def sinusoidal_table(num_positions: int, channels: int) -> torch.Tensor:
    """``(channels, num_positions)`` table: channel ``2i`` is ``sin(p * w_i)``, ``2i+1`` is
    ``cos(p * w_i)``, with ``w_i = 10000 ** (-2i / channels)`` (``channels`` even)."""
    position = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1)  # (P, 1)
    even = torch.arange(0, channels, 2, dtype=torch.float32)  # (C/2,) the channel 2i
    frequency = torch.exp(even * (-math.log(10000.0) / channels))  # (C/2,)
    table = torch.zeros(num_positions, channels)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.t().contiguous()


def conv_bn(in_channels: int, out_channels: int, kernel: tuple[int, int] = (1, 1)) -> nn.Sequential:
    """Conv2d (same padding, with bias) followed by BatchNorm2d."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels))


class STTABlock(nn.Module):
    """Spatio-temporal tuple attention + inter-frame feature aggregation; ``(B, C_in, K, S) ->
    (B, C_out, K, S)``. ``num_slots`` is the full slot count ``L * V`` (the size of ``att0``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        qk_dim: int,
        *,
        num_slots: int,
        num_heads: int,
        tuple_kernel: int = 3,
        slot_kernel: int = 5,
        use_slot_embedding: bool = True,
        attention_dropout: float = 0.0,
        visible_attention_rescale: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.qk_dim, self.num_heads, self.num_slots = qk_dim, num_heads, num_slots
        self.use_slot_embedding = use_slot_embedding
        self.visible_attention_rescale = visible_attention_rescale
        embedding = sinusoidal_table(num_slots, in_channels)  # (C_in, S)
        self.register_buffer("slot_embedding", embedding, persistent=False)
        self.to_query_key = nn.Conv2d(in_channels, 2 * num_heads * qk_dim, 1)
        self.alpha = nn.Parameter(torch.ones(1, num_heads, 1, 1))
        att0 = torch.full((1, num_heads, num_slots, num_slots), 1.0 / num_slots)  # (1, H, S, S)
        self.static_attention = nn.Parameter(att0)
        self.attention_dropout = nn.Dropout(attention_dropout)
        self.slot_conv = conv_bn(num_heads * in_channels, out_channels, (1, slot_kernel))
        self.feed_forward = conv_bn(out_channels, out_channels)
        self.tuple_conv = conv_bn(out_channels, out_channels, (tuple_kernel, 1))
        widths_differ = in_channels != out_channels
        self.attention_residual = conv_bn(in_channels, out_channels) if widths_differ else nn.Identity()
        self.tuple_residual = conv_bn(out_channels, out_channels) if widths_differ else nn.Identity()
        self.activation = nn.LeakyReLU(LEAKY_SLOPE, inplace=True)  # saves its output: the next input

    def forward(self, x: torch.Tensor, slot_ids: torch.Tensor | None = None) -> torch.Tensor:
        """``x (B, C_in, K, S)``; ``slot_ids (B, K, S)`` int64 in ``[0, L*V)`` for visible
        tokens, or None for the full grid (``S = L*V``, slot ``s`` is id ``s``)."""
        attention = self.attention_map(x, slot_ids)
        mixed = attend_and_convolve(x, attention, self.slot_conv[0])  # (B, C_out, K, S)
        residual = self.attention_residual(x)
        y = self.activation(self.slot_conv[1](mixed) + residual)
        y = self.activation(self.feed_forward(y) + residual)
        return self.activation(self.tuple_conv(y) + self.tuple_residual(y))

    def attention_map(self, x: torch.Tensor, slot_ids: torch.Tensor | None = None) -> torch.Tensor:
        """The maps applied to ``x`` (dropout included): ``(B, H, S, S)`` shared by every tuple
        on the full grid, ``(B, H, K, Sv, Sv)`` per tuple on visible tokens."""
        attention = self._map_full(x) if slot_ids is None else self._map_visible(x, slot_ids)
        return self.attention_dropout(attention)

    def _query_key(self, x: torch.Tensor, slot_ids: torch.Tensor | None) -> torch.Tensor:
        """``(2, B, H, qk, K, S)`` queries and keys of ``x (B, C, K, S)`` plus the slot embedding of
        ``slot_ids``, its projection added after that of ``x`` (``x + embedding`` is never stored)."""
        b, _, k, s = x.shape
        qk = self.to_query_key(x)  # (B, 2*H*qk, K, S)
        if self.use_slot_embedding:
            weight = self.to_query_key.weight.flatten(1)  # (2*H*qk, C)
            projected = weight @ self.slot_embedding.to(weight.dtype)  # (2*H*qk, L*V)
            if slot_ids is None:
                qk = qk + projected[:, None, :].to(qk.dtype)
            else:  # (2*H*qk, B, K, S) -> (B, 2*H*qk, K, S)
                qk = qk + projected[:, slot_ids].permute(1, 0, 2, 3).to(qk.dtype)
        return qk.view(b, 2, self.num_heads, self.qk_dim, k, s).transpose(0, 1)

    def _map_full(self, x: torch.Tensor) -> torch.Tensor:
        """One map per sample and head on the full grid: ``(B, C, K, S) -> (B, H, S, S)``."""
        b, _, k, s = x.shape
        query, key = self._query_key(x, None)  # (B, H, qk, K, S) each
        query = query.reshape(b, self.num_heads, self.qk_dim * k, s)
        key = key.reshape(b, self.num_heads, self.qk_dim * k, s)
        logits = query.transpose(2, 3) @ key  # (B, H, S, S), sum over qk and tuples
        return torch.tanh(logits / (self.qk_dim * k)) * self.alpha + self.static_attention

    def _map_visible(self, x: torch.Tensor, slot_ids: torch.Tensor) -> torch.Tensor:
        """Identity-following maps on visible tokens: ``(B, C, K, Sv) -> (B, H, K, Sv, Sv)``."""
        b, _, k, sv = x.shape
        h, full = self.num_heads, self.num_slots
        query, key = self._query_key(x, slot_ids)  # (B, H, qk, K, Sv) each
        index = slot_ids[:, None, None].expand(b, h, self.qk_dim, k, sv)
        scattered = query.new_zeros(2, b, h, self.qk_dim, k, full)
        scattered[0].scatter_add_(4, index, query)  # tokens sharing an id in a tuple add up
        scattered[1].scatter_add_(4, index, key)
        scattered = scattered.view(2, b, h, self.qk_dim * k, full)
        logits = scattered[0].transpose(2, 3) @ scattered[1]  # (B, H, S, S) over ids
        dynamic = torch.tanh(logits / (self.qk_dim * k)) * self.alpha
        pair = (slot_ids.unsqueeze(3) * full + slot_ids.unsqueeze(2)).view(b, 1, k * sv * sv)
        dynamic = dynamic.view(b, h, full * full).gather(2, pair.expand(b, h, -1))
        static = self.static_attention.view(h, full * full)[:, pair.view(b, -1)]  # (H, B, K*Sv*Sv)
        attention = (dynamic + static.transpose(0, 1)).view(b, h, k, sv, sv)
        if self.visible_attention_rescale:  # sum over Sv tokens at the full grid's S scale
            attention = attention * (full / sv)
        return attention


class InputEmbedding(nn.Sequential):
    """1x1 conv from coordinates to ``channels``, BatchNorm, LeakyReLU(0.1); pointwise."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, channels, 1), nn.BatchNorm2d(channels), nn.LeakyReLU(LEAKY_SLOPE)
        )


def config_block(config: ModelConfig, spec: BlockSpec, encoder: bool = True) -> STTABlock:
    """One STTA block of widths ``spec`` with the config's heads, kernels and options; the
    encoder-only attention rescale stays off for a decoder block."""
    return STTABlock(
        spec.in_channels,
        spec.out_channels,
        spec.qk_dim,
        num_slots=config.num_slots,
        num_heads=config.num_heads,
        tuple_kernel=config.tuple_kernel,
        slot_kernel=config.slot_kernel,
        use_slot_embedding=config.use_slot_embedding,
        attention_dropout=config.attention_dropout,
        visible_attention_rescale=encoder and config.visible_attention_rescale,
    )


def build_blocks(config: ModelConfig) -> nn.ModuleList:
    """The encoder's STTA blocks, stage by stage."""
    return nn.ModuleList(config_block(config, spec) for spec in config.block_specs)


def init_sttformer_weights(module: nn.Module) -> None:
    """STTFormer's initialisation: kaiming-normal (fan_out) conv weights (biases keep PyTorch's
    default), BatchNorm weight 1 / bias 0, xavier-normal linear weights with zero bias."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)


class STTFormer(nn.Module):
    """The faithful STTFormer classifier, a reference and baseline: every person computed, mean
    over slots, tuples and *all* persons, dropout, linear. ``(N, C, T, V, M) -> (N, classes)``.
    Parameter names match :class:`~skeletonmae.models.encoder.SkeletonEncoder` (``input_embedding``,
    ``blocks``), so its state dict loads into the encoder (whose frame embedding starts at zero)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.input_embedding = InputEmbedding(config.in_channels, config.embed_channels)
        self.blocks = build_blocks(config)
        self.dropout = nn.Dropout(config.head_dropout)
        self.fc = nn.Linear(config.feature_dim, config.num_classes)
        init_sttformer_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M) -> (N * M, D, K, S)`` block features of every person."""
        cfg = self.config
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, cfg.num_tuples, cfg.num_slots)
        x = self.input_embedding(x)
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M) -> (N, num_classes)`` logits."""
        n, m = x.shape[0], x.shape[4]
        features = self.forward_features(x)  # (N*M, D, K, S)
        pooled = features.mean(dim=(2, 3)).view(n, m, -1).mean(dim=1)  # (N, D)
        return self.fc(self.dropout(pooled))
