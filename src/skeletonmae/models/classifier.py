"""Action classifier for fine-tuning and linear evaluation: the SkeletonMAE encoder on the full
sequence, pooled features (``model.head_pool``), mean over *present* persons, a linear head."""

from __future__ import annotations

import torch
from torch import nn

from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import check_input, mean_over_persons, pack_persons, present_persons
from skeletonmae.models.sttformer import init_sttformer_weights
from skeletonmae.run_config import FEATURE_POOLS, ModelConfig

__all__ = ["ClassificationHead", "SkeletonClassifier", "FEATURE_POOLS", "pool_features"]


def pool_features(features: torch.Tensor, pool: str) -> torch.Tensor:
    """Encoder output ``(B, D, K, S)`` -> ``(B, D)`` averaged over tuples and slots (``"mean"``)
    or ``(B, D * K)`` averaged over each tuple's slots, tuples in time order (``"tuple"``)."""
    if pool not in FEATURE_POOLS:
        raise ValueError(f"pool={pool!r}: choose one of {', '.join(FEATURE_POOLS)}")
    return features.mean(dim=(2, 3)) if pool == "mean" else features.mean(dim=3).flatten(1)


class ClassificationHead(nn.Module):
    """Dropout then linear: ``(N, D) -> (N, num_classes)``. ``feature_norm=True`` puts MAE's / MAMP's
    ``BatchNorm1d(D, affine=False)`` first, standardising frozen features whose scale the encoder
    never had to fix; without it ``norm`` is an ``Identity`` and the state dict holds ``fc.*`` only."""

    def __init__(
        self, feature_dim: int, num_classes: int, dropout: float, feature_norm: bool = False
    ) -> None:
        super().__init__()
        self.norm: nn.Module = nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(feature_dim, num_classes)
        if feature_norm:
            self.add_feature_norm()

    def add_feature_norm(self) -> None:
        """Insert the non-affine BatchNorm (fresh statistics, on the head's device)."""
        self.norm = nn.BatchNorm1d(self.fc.in_features, affine=False, eps=1e-6, device=self.fc.weight.device)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.norm(features)))


class SkeletonClassifier(nn.Module):
    """``forward(x (N, C, T, V, M)) -> logits (N, K)``; ``forward_features(x) -> (N, F)`` with
    ``F = config.pooled_dim()`` (``D``, or ``D * T / L`` with ``head_pool="tuple"``).

    All-zero (padded) persons are skipped: they are not computed and not pooled. With
    ``skip_absent_persons=False`` every person is computed and still only present ones are
    pooled (same outputs in eval mode, about twice the cost on NTU-like batches).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.num_classes < 1:
            raise ValueError(
                "model.num_classes is 0 (the data has no labels): a classifier needs labelled data; "
                "unlabelled data is for pre-training"
            )
        self.config = config
        self.encoder = SkeletonEncoder(config)
        self.head = ClassificationHead(config.pooled_dim(), config.num_classes, config.head_dropout)
        init_sttformer_weights(self.head)
        self.skip_absent_persons = True
        self.encoder_frozen = False
        # True while fine-tuning holds the encoder (LP-FT's probing epochs): eval mode kept
        self.encoder_held = False

    def forward_features(self, x: torch.Tensor, pool: str | None = None) -> torch.Tensor:
        """``(N, C, T, V, M) -> (N, D)`` (``pool="mean"``) or ``(N, D * K)`` (``pool="tuple"``,
        time order kept) encoder features (:func:`pool_features`); ``None``: ``config.head_pool``."""
        check_input(x, self.config)
        pool = self.config.head_pool if pool is None else pool
        present = present_persons(x)  # (N, M)
        packed = pack_persons(x, present if self.skip_absent_persons else torch.ones_like(present))
        pooled = pool_features(self.encoder(packed.data), pool)  # (P, F)
        if self.skip_absent_persons:
            return mean_over_persons(pooled, packed)
        # Every person was computed (P = N * M): pool the present ones only.
        weight = present.to(pooled.dtype)  # (N, M)
        pooled = pooled.view(packed.num_samples, packed.num_persons, -1)  # (N, M, D)
        return (pooled * weight.unsqueeze(2)).sum(dim=1) / weight.sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))

    def freeze_encoder(self, feature_norm: bool = False) -> None:
        """Linear evaluation: no gradients for the encoder, which stays in eval mode through
        ``train()``; ``feature_norm=True`` adds the head's non-affine BatchNorm (``head.norm.*``)."""
        self.encoder_frozen = True
        if feature_norm and not isinstance(self.head.norm, nn.BatchNorm1d):
            self.head.add_feature_norm()
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(False)
        self.encoder.eval()

    def train(self, mode: bool = True) -> SkeletonClassifier:
        super().train(mode)
        if self.encoder_frozen or self.encoder_held:
            self.encoder.eval()
        return self
