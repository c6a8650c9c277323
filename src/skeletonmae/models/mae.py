"""SkeletonMAE pre-training module: mask, encode the visible tokens, decode the full grid, MSE.

Only present persons are computed (:mod:`skeletonmae.models.persons`); they share their sample's mask.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from skeletonmae.masking import MaskResult, motion_scores, spatial_temporal_mask
from skeletonmae.models.decoder import ReconstructionDecoder
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import check_input, pack_persons, unpack_persons
from skeletonmae.models.targets import baseline_errors, masked_mse, reconstruction_target
from skeletonmae.run_config import MaskConfig, ModelConfig

__all__ = ["MAEOutput", "SkeletonMAE"]


class MAEOutput(NamedTuple):
    """One pre-training forward: ``loss`` (scalar MSE in target space over coordinates and the
    masked, or all, tokens of present persons), ``reconstruction (N, C, T, V, M)`` in target space
    (zeros for absent persons), ``mask (N, T, V)`` (1 = removed; shared by a sample's persons) and,
    with ``with_baselines=True``, ``errors``: the masked-token MSE of the model (``model``), the
    static pose (``static``) and temporal interpolation (``interp``) on the same masks."""

    loss: torch.Tensor
    reconstruction: torch.Tensor
    mask: torch.Tensor
    errors: dict[str, torch.Tensor] = {}


class SkeletonMAE(nn.Module):
    """``forward(x (N, C, T, V, M), generator=None) -> MAEOutput``. Every parameter lives in
    ``encoder`` (:class:`SkeletonEncoder`) or ``decoder`` (:class:`ReconstructionDecoder`)."""

    def __init__(self, config: ModelConfig, mask_config: MaskConfig) -> None:
        super().__init__()
        mask_config.check_against(config)
        self.config = config
        self.mask_config = mask_config
        self.encoder = SkeletonEncoder(config)
        self.decoder = ReconstructionDecoder(config)

    def draw_mask(self, x: torch.Tensor, generator: torch.Generator | None) -> MaskResult:
        """The spatial-temporal mask of a batch ``x (N, C, T, V, M)`` (see
        :mod:`skeletonmae.masking`); motion-aware when ``mask.motion_temperature`` is set."""
        cfg, mcfg = self.config, self.mask_config
        frame_scores = joint_scores = None
        if mcfg.motion_temperature is not None:
            frame_scores, joint_scores = motion_scores(x, mcfg.motion_temperature)
        return spatial_temporal_mask(
            x.shape[0],
            cfg.num_frames,
            cfg.num_joints,
            frame_ratio=mcfg.frame_ratio,
            joint_ratio=mcfg.joint_ratio,
            strategy=mcfg.strategy,
            generator=generator,
            device=x.device,
            frame_scores=frame_scores,
            joint_scores=joint_scores,
        )

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None, with_baselines: bool = False
    ) -> MAEOutput:
        check_input(x, self.config)
        cfg, mcfg = self.config, self.mask_config
        masking = self.draw_mask(x, generator)
        packed = pack_persons(x)
        rows = packed.sample_index
        removed = masking.mask[rows]  # (P, T, V)
        kept_frames = masking.kept_frames[rows]  # (P, Tv)
        kept_joints = masking.kept_joints[rows]  # (P, Tv, Vv)
        features = self.encoder(packed.data, kept_frames, kept_joints)  # (P, D, Tv/L, L*Vv)
        predicted = self.decoder(features, kept_frames, kept_joints)  # (P, C, T, V)
        target, stats = reconstruction_target(packed.data, mcfg.target, mcfg.normalize_target, cfg.tuple_len)
        if mcfg.loss_on == "masked":
            loss = masked_mse(predicted, target, removed)
        else:
            loss = (predicted - target).pow(2).mean()
        errors = {}
        if with_baselines:
            with torch.no_grad():
                errors = {
                    "model": masked_mse(predicted.detach().float(), target, removed),
                    **baseline_errors(packed.data, removed, mcfg.target, stats, cfg.tuple_len),
                }
        return MAEOutput(loss, unpack_persons(predicted, packed), masking.mask, errors)
