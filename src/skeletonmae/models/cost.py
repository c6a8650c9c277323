"""Parameter counts and forward GFLOPs per sample of the classifier, encoder and decoder.

FLOPs come from ``torch.utils.flop_counter`` (a multiply-add counts 2) on the ``meta`` device, so
nothing is computed. A sample has all ``num_persons`` persons present (real NTU batches cost less).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skeletonmae.masking import visible_counts
from skeletonmae.models.classifier import SkeletonClassifier, pool_features
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.models.sttformer import STTFormer
from skeletonmae.run_config import MaskConfig, ModelConfig

__all__ = ["ModelCost", "count_parameters", "count_gflops", "measure_model_cost"]


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


def count_gflops(run: Callable[[], Any]) -> float:
    """GFLOPs of everything ``run()`` computes, counted by ``FlopCounterMode``."""
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / 1e9


@dataclass(frozen=True)
class ModelCost:
    """Sizes and forward costs per sample (all persons present)."""

    classifier_params: int
    encoder_params: int
    decoder_params: int
    mae_params: int
    sttformer_params: int
    classifier_gflops: float
    encoder_gflops: float
    encoder_full_gflops: float
    decoder_gflops: float
    mae_gflops: float
    sttformer_gflops: float
    visible_frames: int
    visible_joints: int
    visible_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def measure_model_cost(config: ModelConfig, mask_config: MaskConfig) -> ModelCost:
    """Parameters and forward GFLOPs per sample of every part (``encoder_gflops``: on the visible
    tokens at ``mask_config``'s ratios). A sample costs a batch of two less a batch of one, so work
    done once per batch (a block's projection of its slot embedding) is not charged per sample."""
    with torch.device("meta"), torch.no_grad():
        classifier = SkeletonClassifier(config).eval()
        mae = SkeletonMAE(config, mask_config).eval()
        sttformer = STTFormer(config).eval()
        one, two = (_forward_gflops(config, classifier, mae, sttformer, n) for n in (1, 2))
    costs = {key: two[key] - one[key] for key in one}
    costs["mae_gflops"] = costs["encoder_gflops"] + costs["decoder_gflops"]
    kept_t, kept_v = visible_counts(
        config.num_frames, config.num_joints, mask_config.frame_ratio, mask_config.joint_ratio
    )
    return ModelCost(
        classifier_params=count_parameters(classifier),
        encoder_params=count_parameters(classifier.encoder),
        decoder_params=count_parameters(mae.decoder),
        mae_params=count_parameters(mae),
        sttformer_params=count_parameters(sttformer),
        visible_frames=kept_t,
        visible_joints=kept_v,
        visible_fraction=kept_t * kept_v / (config.num_frames * config.num_joints),
        **costs,
    )


def _forward_gflops(config, classifier, mae, sttformer, n: int) -> dict[str, float]:
    """Forward GFLOPs of each part on a batch of ``n`` samples, every person present."""
    persons = config.num_persons
    sample = torch.zeros(n, config.in_channels, config.num_frames, config.num_joints, persons)
    rows = sample.permute(0, 4, 1, 2, 3).reshape(n * persons, *sample.shape[1:4])
    masking = mae.draw_mask(rows.unsqueeze(4), generator=None)  # one mask per row
    frames, joints = masking.kept_frames, masking.kept_joints
    visible = mae.encoder(rows, frames, joints)

    def classify() -> torch.Tensor:
        pooled = pool_features(classifier.encoder(rows), config.head_pool).view(n, persons, -1).mean(dim=1)
        return classifier.head(pooled)

    return dict(
        classifier_gflops=count_gflops(classify),
        encoder_gflops=count_gflops(lambda: mae.encoder(rows, frames, joints)),
        encoder_full_gflops=count_gflops(lambda: classifier.encoder(rows)),
        decoder_gflops=count_gflops(lambda: mae.decoder(visible, frames, joints)),
        sttformer_gflops=count_gflops(lambda: sttformer(sample)),
    )
