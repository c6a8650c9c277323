"""Cosine k-nearest-neighbour classification of encoder features (the self-supervised protocol).

Wu et al., "Unsupervised Feature Learning via Non-Parametric Instance Discrimination" (CVPR 2018,
section 3.4): features are L2-normalised, the ``k`` training features with the highest cosine
similarity ``s_i`` to a test feature vote for their labels with weight ``exp(s_i / temperature)``
(``weighted=False``: 1), and the class with the largest total wins. ``standardize=True`` first
z-scores every dimension with the training bank's statistics (raw coordinates' cosine is otherwise
ruled by the mean pose).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np
import torch
import torch.nn.functional as F

from skeletonmae.config import require

logger = logging.getLogger(__name__)


Array = np.ndarray | torch.Tensor


@dataclasses.dataclass(frozen=True)
class KnnConfig:
    """k-NN settings; defaults are Wu et al. (2018): k = 200, temperature = 0.07, weighted votes.
    ``chunk_size`` test features are compared with the training bank at a time (memory
    ``chunk_size * N_train`` floats)."""

    k: int = 200
    temperature: float = 0.07
    weighted: bool = True
    chunk_size: int = 1024
    standardize: bool = False

    def __post_init__(self) -> None:
        require(
            isinstance(self.k, int) and not isinstance(self.k, bool) and self.k >= 1,
            "k",
            f"got {self.k!r}; use a positive integer (200 in Wu et al. 2018, 1 for 1-NN)",
        )
        require(
            isinstance(self.temperature, (int, float))
            and math.isfinite(self.temperature)
            and self.temperature > 0,
            "temperature",
            f"got {self.temperature!r}; use a positive number (0.07 in Wu et al. 2018)",
        )
        require(
            isinstance(self.weighted, bool),
            "weighted",
            f"got {self.weighted!r}; use true (exp(s/temperature) votes) or false",
        )
        require(
            isinstance(self.chunk_size, int) and self.chunk_size >= 1,
            "chunk_size",
            f"got {self.chunk_size!r}; use a positive integer such as 1024",
        )


@dataclasses.dataclass(frozen=True)
class KnnResult:
    """``scores`` ``(N_test, K)``: vote totals per class; ``predictions`` ``(N_test,)``: their argmax;
    ``top1`` / ``top5`` fractions in [0, 1] (top5 None with fewer than 5 classes); ``k``: the
    neighbour count used (at most the training set size)."""

    scores: np.ndarray
    predictions: np.ndarray
    top1: float
    top5: float | None
    k: int
    num_train: int
    num_test: int


def _as_features(name: str, features: Array) -> torch.Tensor:
    tensor = torch.as_tensor(features if isinstance(features, torch.Tensor) else np.asarray(features)).float()
    if tensor.dim() != 2 or tensor.shape[0] == 0:
        raise ValueError(
            f"{name}: expected a non-empty (N, D) feature matrix, got shape "
            f"{tuple(tensor.shape)}; pass the output of `skeletonmae embed`"
        )
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name}: holds NaN or inf; re-extract the features")
    return tensor


def _as_labels(name: str, labels: Array, count: int) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(labels)).long().view(-1)
    if tensor.shape[0] != count:
        raise ValueError(
            f"{name}: {tensor.shape[0]} labels for {count} feature rows; pass one label per sample"
        )
    return tensor


def knn_class_scores(
    train_features: Array,
    train_labels: Array,
    test_features: Array,
    num_classes: int,
    config: KnnConfig = KnnConfig(),
) -> torch.Tensor:
    """Vote totals ``(N_test, num_classes)`` of the ``k`` (at most ``N_train``) most cosine-similar
    of ``train_features (N_train, D)`` (labels ``(N_train,)`` in ``[0, num_classes)``) for every row
    of ``test_features (N_test, D)``."""
    bank = _as_features("train features", train_features)  # (Nr, D)
    queries = _as_features("test features", test_features)  # (Ne, D)
    labels = _as_labels("train labels", train_labels, bank.shape[0])
    if bank.shape[1] != queries.shape[1]:
        raise ValueError(
            f"train features have {bank.shape[1]} dimensions, test features "
            f"{queries.shape[1]}; extract both with the same checkpoint"
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"train labels must lie in 0..{num_classes - 1}, got "
            f"{int(labels.min())}..{int(labels.max())}; unlabelled (-1) samples "
            "cannot vote, drop them first"
        )
    if config.standardize:
        mean, std = bank.mean(dim=0), bank.std(dim=0, unbiased=False).clamp_min(1e-6)
        bank, queries = (bank - mean) / std, (queries - mean) / std
    bank, queries = F.normalize(bank, dim=1), F.normalize(queries, dim=1)
    k = min(config.k, bank.shape[0])
    scores = []
    for start in range(0, queries.shape[0], config.chunk_size):
        similarity = queries[start : start + config.chunk_size] @ bank.t()  # (B, Nr)
        top_similarity, top_index = similarity.topk(k, dim=1)  # (B, k)
        votes = (
            (top_similarity / config.temperature).exp()
            if config.weighted
            else torch.ones_like(top_similarity)
        )
        chunk = votes.new_zeros(votes.shape[0], num_classes)
        scores.append(chunk.scatter_add_(1, labels[top_index], votes))  # (B, K)
    return torch.cat(scores)


def knn_evaluate(
    train_features: Array,
    train_labels: Array,
    test_features: Array,
    test_labels: Array,
    num_classes: int,
    config: KnnConfig = KnnConfig(),
) -> KnnResult:
    """k-NN top-1 / top-5 accuracy of ``test_features`` against the labelled training bank."""
    scores = knn_class_scores(train_features, train_labels, test_features, num_classes, config)
    truth = _as_labels("test labels", test_labels, scores.shape[0])
    # (Ne, K) classes by votes; ties keep the lower class first
    ranked = torch.sort(scores, dim=1, descending=True, stable=True).indices
    top1 = float((ranked[:, 0] == truth).float().mean())
    top5 = float((ranked[:, :5] == truth[:, None]).any(dim=1).float().mean()) if num_classes >= 5 else None
    num_train = int(torch.as_tensor(np.asarray(train_labels)).numel())
    k = min(config.k, num_train)
    votes = ("weighted" if config.weighted else "majority") + (", standardised" if config.standardize else "")
    logger.info("k-NN (k=%d, T=%s, %s): top-1 %.2f %%", k, config.temperature, votes, 100 * top1)
    return KnnResult(scores.numpy(), ranked[:, 0].numpy(), top1, top5, k, num_train, int(scores.shape[0]))
