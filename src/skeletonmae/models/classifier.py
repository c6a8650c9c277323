"""Action classifier for fine-tuning and linear evaluation: the SkeletonMAE encoder on the full
sequence, mean over slots and tuples, mean over *present* persons, dropout, linear head."""

from __future__ import annotations

import torch
from torch import nn

from skeletonmae.models.config import ModelConfig
from skeletonmae.models.encoder import SkeletonEncoder
from skeletonmae.models.persons import (check_input, mean_over_persons, pack_persons,
                                        present_persons)
from skeletonmae.models.sttformer import init_sttformer_weights

__all__ = ["ClassificationHead", "SkeletonClassifier"]


class ClassificationHead(nn.Module):
    """Dropout then linear: ``(N, D) -> (N, num_classes)``."""

    def __init__(self, feature_dim: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(feature_dim, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(features))


class SkeletonClassifier(nn.Module):
    """``forward(x (N, C, T, V, M)) -> logits (N, K)``; ``forward_features(x) -> (N, D)``.

    All-zero (padded) persons are skipped: they are not computed and not pooled. With
    ``skip_absent_persons=False`` every person is computed and still only present ones are
    pooled (same outputs in eval mode, about twice the cost on NTU-like batches).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = SkeletonEncoder(config)
        self.head = ClassificationHead(config.feature_dim, config.num_classes, config.head_dropout)
        init_sttformer_weights(self.head)
        self.skip_absent_persons = True
        self.encoder_frozen = False

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M) -> (N, D)`` pooled encoder features."""
        check_input(x, self.config)
        packed = pack_persons(x, skip_absent=self.skip_absent_persons)
        features = self.encoder(packed.data)  # (P, D, K, S)
        pooled = features.mean(dim=(2, 3))  # (P, D)
        if self.skip_absent_persons:
            return mean_over_persons(pooled, packed)
        # Every person was computed (P = N * M): pool the present ones only.
        weight = present_persons(x).to(pooled.dtype)  # (N, M)
        pooled = pooled.view(packed.num_samples, packed.num_persons, -1)  # (N, M, D)
        return (pooled * weight.unsqueeze(2)).sum(dim=1) / weight.sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))

    def freeze_encoder(self) -> None:
        """Linear evaluation: encoder parameters stop requiring gradients and the encoder stays
        in eval mode (BatchNorm statistics frozen) even when ``train()`` is called."""
        self.encoder_frozen = True
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(False)
        self.encoder.eval()

    def train(self, mode: bool = True) -> "SkeletonClassifier":
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self
