"""SkeletonMAE's reconstruction decoder (paper section 3.2, MAE-style).

Visible tokens' encoder features, projected to ``decoder_width``, go to their ``(frame, joint)``
places in the full grid, one learned mask token fills the removed places, a fixed 2-D sin-cos
embedding of the grid is added, ``decoder_depth`` STTFormer blocks run and a 1x1 conv maps every
token to ``C`` coordinates.
"""

from __future__ import annotations

import torch
from torch import nn

from skeletonmae.masking import flat_token_index
from skeletonmae.models.checkpointing import run_blocks
from skeletonmae.models.sttformer import config_block, init_sttformer_weights, sinusoidal_table
from skeletonmae.run_config import BlockSpec, ModelConfig

__all__ = ["ReconstructionDecoder", "grid_position_embedding"]

OUTPUT_INIT_STD = 0.01


def grid_position_embedding(channels: int, num_frames: int, num_joints: int) -> torch.Tensor:
    """``(channels, T, V)`` fixed embedding: frame sin-cos in the first half of the channels,
    joint sin-cos in the second half (``channels`` divisible by 4)."""
    grid = (channels // 2, num_frames, num_joints)
    frames = sinusoidal_table(num_frames, grid[0])[:, :, None].expand(grid)  # (C/2, T, V)
    joints = sinusoidal_table(num_joints, grid[0])[:, None, :].expand(grid)  # (C/2, T, V)
    return torch.cat([frames, joints], dim=0)


class ReconstructionDecoder(nn.Module):
    """``(B, D_enc, Tv/L, L*Vv)`` visible features + their ids -> ``(B, C, T, V)`` coordinates."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        width = config.decoder_width
        self.encoder_to_decoder = nn.Conv2d(config.feature_dim, width, 1)
        self.mask_token = nn.Parameter(torch.zeros(1, width, 1))
        self.register_buffer(
            "position_embedding",
            grid_position_embedding(width, config.num_frames, config.num_joints).unsqueeze(0),
            persistent=False,
        )  # (1, D, T, V)
        self.checkpoint_activations = False  # training.checkpoint_activations
        spec = BlockSpec(width, width, config.decoder_qk_dim)
        self.blocks = nn.ModuleList(
            config_block(config, spec, encoder=False) for _ in range(config.decoder_depth)
        )
        self.to_coordinates = nn.Conv2d(width, config.in_channels, 1)
        init_sttformer_weights(self)
        nn.init.normal_(self.mask_token, std=0.02)
        # STTFormer's kaiming fan_out rule gives this 1x1 conv (fan_out = C = 3) std 0.8: first outputs
        # ~10x the data's scale, a first loss of ~100 that takes hundreds of steps to undo (NW-UCLA).
        nn.init.normal_(self.to_coordinates.weight, std=OUTPUT_INIT_STD)
        nn.init.zeros_(self.to_coordinates.bias)

    def forward(
        self, features: torch.Tensor, kept_frames: torch.Tensor, kept_joints: torch.Tensor
    ) -> torch.Tensor:
        """``features (B, D_enc, Tv/L, L*Vv)``, ``kept_frames (B, Tv)``, ``kept_joints
        (B, Tv, Vv)`` -> reconstruction ``(B, C, T, V)`` of every token."""
        cfg = self.config
        b = features.shape[0]
        grid = self.to_grid(features, kept_frames, kept_joints).reshape(b, -1, cfg.num_tuples, cfg.num_slots)
        grid = run_blocks(self.blocks, grid, self.checkpoint_activations)
        return self.to_coordinates(grid).view(b, cfg.in_channels, cfg.num_frames, cfg.num_joints)

    def to_grid(
        self, features: torch.Tensor, kept_frames: torch.Tensor, kept_joints: torch.Tensor
    ) -> torch.Tensor:
        """Projected visible features at their ``(frame, joint)`` places, the mask token
        elsewhere, plus the grid position embedding: ``(B, D, T, V)``."""
        b = features.shape[0]
        t, v = self.config.num_frames, self.config.num_joints
        tokens = self.encoder_to_decoder(features).flatten(2)  # (B, D, Tv*Vv), frame-major
        flat = flat_token_index(kept_frames, kept_joints, v).unsqueeze(1)  # (B, 1, Tv*Vv)
        # Under autocast the projection may run in bf16/fp16 while the mask token is fp32.
        grid = (
            self.mask_token.to(tokens.dtype)
            .expand(b, -1, t * v)
            .scatter(2, flat.expand(-1, tokens.shape[1], -1), tokens)
        )  # (B, D, T*V)
        return grid.view(b, -1, t, v) + self.position_embedding
