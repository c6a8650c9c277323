"""SkeletonMAE's encoder: STTFormer over the full grid or over the visible tokens only.

Kept frames of the visible ``(Tv, Vv)`` grid are grouped, in temporal order, into ``Tv / L`` tuples
of ``L * Vv`` tokens. A token keeps its identity: its slot id is ``(t mod L) * V + v`` (slot
embedding and ``att0`` are *gathered* there, never shifted), and a learned embedding of its original
frame ``t`` says when it happened. That embedding starts at zero, so with nothing masked a fresh
encoder computes exactly the faithful STTFormer's features.
"""

from __future__ import annotations

import torch
from torch import nn

from skeletonmae.masking import flat_token_index
from skeletonmae.models.checkpointing import run_blocks
from skeletonmae.models.sttformer import InputEmbedding, build_blocks, init_sttformer_weights
from skeletonmae.run_config import ModelConfig

__all__ = ["SkeletonEncoder", "visible_slot_ids"]


def visible_slot_ids(
    kept_frames: torch.Tensor, kept_joints: torch.Tensor, num_joints: int, tuple_len: int
) -> torch.Tensor:
    """Slot id of every visible token: ``kept_frames (B, Tv)``, ``kept_joints (B, Tv, Vv)`` ->
    ``(B, Tv / L, L * Vv)`` with id ``(t mod L) * V + v``."""
    b, tv, vv = kept_joints.shape
    ids = (kept_frames % tuple_len).unsqueeze(2) * num_joints + kept_joints  # (B, Tv, Vv)
    return ids.reshape(b, tv // tuple_len, tuple_len * vv)


class SkeletonEncoder(nn.Module):
    """Input embedding + temporal embedding + STTFormer blocks; ``B`` = samples x present persons.

    ``forward(x (B, C, T, V)) -> (B, D, T/L, L*V)`` on the full grid; ``forward(x, kept_frames
    (B, Tv), kept_joints (B, Tv, Vv)) -> (B, D, Tv/L, L*Vv)`` on the visible tokens, in that order.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.input_embedding = InputEmbedding(config.in_channels, config.embed_channels)
        self.frame_embedding = nn.Parameter(torch.zeros(config.embed_channels, config.num_frames))
        self.blocks = build_blocks(config)
        self.checkpoint_activations = False  # training.checkpoint_activations
        init_sttformer_weights(self)

    def forward(
        self,
        x: torch.Tensor,
        kept_frames: torch.Tensor | None = None,
        kept_joints: torch.Tensor | None = None,
    ) -> torch.Tensor:
        self._check_rows(x)
        if (kept_frames is None) != (kept_joints is None):
            raise ValueError("pass both kept_frames and kept_joints (visible tokens) or neither (full grid)")
        if kept_frames is None:
            tokens, slot_ids = self._embed_full(x), None
        else:
            tokens, slot_ids = self._embed_visible(x, kept_frames, kept_joints)
        return run_blocks(self.blocks, tokens, self.checkpoint_activations, slot_ids=slot_ids)

    def _check_rows(self, x: torch.Tensor) -> None:
        cfg = self.config
        want = (cfg.in_channels, cfg.num_frames, cfg.num_joints)
        if x.dim() != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(
                f"encoder input: expected (B, C, T, V) = (B, {want[0]}, {want[1]}, {want[2]}) (persons "
                f"folded into B), got {tuple(x.shape)}; check in_channels / num_frames / num_joints"
            )

    def _embed_full(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, V) -> (B, C0, K, S)`` embedded tuples of the whole grid."""
        cfg = self.config
        tokens = self.input_embedding(x) + self.frame_embedding[None, :, :, None]  # (B, C0, T, V)
        return tokens.view(x.shape[0], -1, cfg.num_tuples, cfg.num_slots)

    def _embed_visible(
        self, x: torch.Tensor, kept_frames: torch.Tensor, kept_joints: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Visible tokens: ``(B, C0, Tv/L, L*Vv)`` features and ``(B, Tv/L, L*Vv)`` slot ids."""
        cfg = self.config
        b, c, t, v = x.shape
        if kept_frames.shape[0] != b or kept_joints.shape[:2] != kept_frames.shape:
            raise ValueError(
                f"kept_frames {tuple(kept_frames.shape)} and kept_joints {tuple(kept_joints.shape)} "
                f"must be (B, Tv) and (B, Tv, Vv) with B = {b} rows of x"
            )
        tv, vv = kept_joints.shape[1:]
        if tv % cfg.tuple_len != 0:
            raise ValueError(
                f"{tv} visible frames do not form whole tuples of tuple_len={cfg.tuple_len}; choose "
                f"frame_ratio so the kept frame count is a multiple of {cfg.tuple_len}"
            )
        flat = flat_token_index(kept_frames, kept_joints, v).unsqueeze(1)  # (B, 1, Tv*Vv)
        visible = x.reshape(b, c, t * v).gather(2, flat.expand(b, c, -1))  # (B, C, Tv*Vv)
        tokens = self.input_embedding(visible.view(b, c, tv, vv))  # (B, C0, Tv, Vv)
        time = self.frame_embedding[:, kept_frames].permute(1, 0, 2)  # (B, C0, Tv)
        tokens = tokens + time.unsqueeze(3)
        slot_ids = visible_slot_ids(kept_frames, kept_joints, v, cfg.tuple_len)
        return tokens.view(b, -1, tv // cfg.tuple_len, cfg.tuple_len * vv), slot_ids
