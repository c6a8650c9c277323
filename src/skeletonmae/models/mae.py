"""SkeletonMAE pre-training module: mask, encode the visible tokens, decode the full grid, MSE.

Persons are folded into the batch and only present ones are computed (see
:mod:`skeletonmae.models.persons`); both persons of a sample share the sample's mask.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from skeletonmae.masking import spatial_temporal_mask
from skeletonmae.models.config import MaskConfig, ModelConfig
from skeletonmae.models.decoder import ReconstructionDecoder
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import check_input, pack_persons, unpack_persons

__all__ = ["MAEOutput", "SkeletonMAE"]


class MAEOutput(NamedTuple):
    """Result of one pre-training forward.

    Attributes:
        loss: scalar MSE (mean over coordinates and over the masked, or all, tokens of the
            present persons).
        reconstruction: ``(N, C, T, V, M)`` predicted coordinates of every token (zeros for
            persons that were not present).
        mask: ``(N, T, V)`` float, 1 = removed from the encoder input; shared by the persons of
            a sample.
    """

    loss: torch.Tensor
    reconstruction: torch.Tensor
    mask: torch.Tensor


class SkeletonMAE(nn.Module):
    """``forward(x (N, C, T, V, M), generator=None) -> MAEOutput``. Holds ``encoder``
    (:class:`SkeletonEncoder`) and ``decoder`` (:class:`ReconstructionDecoder`) only, so every
    parameter key starts with ``encoder.`` or ``decoder.``."""

    def __init__(self, config: ModelConfig, mask_config: MaskConfig) -> None:
        super().__init__()
        mask_config.check_against(config)
        self.config = config
        self.mask_config = mask_config
        self.encoder = SkeletonEncoder(config)
        self.decoder = ReconstructionDecoder(config)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> MAEOutput:
        check_input(x, self.config)
        cfg, mcfg = self.config, self.mask_config
        masking = spatial_temporal_mask(
            x.shape[0], cfg.num_frames, cfg.num_joints, frame_ratio=mcfg.frame_ratio,
            joint_ratio=mcfg.joint_ratio, strategy=mcfg.strategy, tuple_len=cfg.tuple_len,
            generator=generator, device=x.device)
        packed = pack_persons(x)
        rows = packed.sample_index
        kept_frames = masking.kept_frames[rows]  # (P, Tv)
        kept_joints = masking.kept_joints[rows]  # (P, Tv, Vv)
        features = self.encoder(packed.data, kept_frames, kept_joints)  # (P, D, Tv/L, L*Vv)
        predicted = self.decoder(features, kept_frames, kept_joints)  # (P, C, T, V)
        squared_error = (predicted - packed.data).pow(2).mean(dim=1)  # (P, T, V)
        if mcfg.loss_on == "masked":
            weight = masking.mask[rows]  # (P, T, V)
            loss = (squared_error * weight).sum() / weight.sum()
        else:
            loss = squared_error.mean()
        return MAEOutput(loss, unpack_persons(predicted, packed), masking.mask)
