"""Classification metrics: top-k accuracy, confusion matrix, per-class accuracy; DDP-aware tally.

Counts are accumulated on the device (no host sync per batch) and summed over ranks once at the
end, so the metrics of a distributed evaluation equal those of a single-process one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch

from skeletonmae.distributed import DistributedContext, all_reduce_sum


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...]) -> torch.Tensor:
    """Number of samples whose label is among the ``k`` highest logits, for each ``k``.

    logits: (N, K); labels: (N,) int64. ``k`` larger than K is clipped to K. Returns (len(ks),)
    int64 counts on the logits' device.
    """
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"expected logits (N, K) and labels (N,), got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    largest = min(max(ks), logits.shape[1])
    top = logits.topk(largest, dim=1).indices  # (N, k_max), best first
    hits = top.eq(labels[:, None])  # (N, k_max)
    return torch.stack([hits[:, : min(k, largest)].any(dim=1).sum() for k in ks])


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64 counts; row = true class, column = predicted class."""
    if predictions.shape != labels.shape:
        raise ValueError(
            f"predictions {tuple(predictions.shape)} and labels {tuple(labels.shape)} differ in shape"
        )
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes}), got range [{int(labels.min())}, {int(labels.max())}]"
        )
    flat = labels.to(torch.int64) * num_classes + predictions.to(torch.int64)
    return torch.bincount(flat, minlength=num_classes * num_classes).view(num_classes, num_classes)


def per_class_accuracy(confusion: torch.Tensor) -> list[float]:
    """Recall of each class (diagonal / row sum); NaN for classes with no samples."""
    totals = confusion.sum(dim=1).tolist()
    diagonal = confusion.diagonal().tolist()
    return [d / t if t else math.nan for d, t in zip(diagonal, totals)]


@dataclasses.dataclass(frozen=True)
class ClassificationMetrics:
    """Results of one evaluation. Accuracies are fractions in [0, 1]."""

    top1: float
    top5: float
    loss: float
    count: int
    per_class: list[float]
    confusion: list[list[int]]

    @property
    def mean_class_accuracy(self) -> float:
        present = [a for a in self.per_class if not math.isnan(a)]
        return sum(present) / len(present) if present else math.nan


class ClassificationTally:
    """Accumulates loss, top-1/top-5 hits and the confusion matrix over batches, on the device."""

    def __init__(self, num_classes: int, device: torch.device) -> None:
        self.num_classes = num_classes
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)
        self.hits = torch.zeros(2, dtype=torch.int64, device=device)  # top-1, top-5
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)

    def update(self, logits: torch.Tensor, labels: torch.Tensor, loss_sum: torch.Tensor) -> None:
        """logits (N, K), labels (N,), loss_sum: summed (not mean) loss of the batch."""
        if logits.shape[1] != self.num_classes:
            raise ValueError(f"logits have {logits.shape[1]} classes, tally expects {self.num_classes}")
        logits = logits.detach().float()
        self.hits += topk_correct(logits, labels, (1, 5))
        self.confusion += confusion_matrix(logits.argmax(dim=1), labels, self.num_classes)
        self.loss_sum += loss_sum.detach().double()

    def compute(self, context: DistributedContext | None = None) -> ClassificationMetrics:
        """Sum over ranks (when distributed) and return the metrics; one host sync."""
        packed = torch.cat([self.confusion.flatten().double(), self.hits.double(), self.loss_sum.view(1)])
        if context is not None:
            all_reduce_sum(packed, context)
        k2 = self.num_classes * self.num_classes
        confusion = packed[:k2].round().to(torch.int64).view(self.num_classes, self.num_classes)
        hits = packed[k2 : k2 + 2].tolist()
        count = int(confusion.sum())
        denominator = max(count, 1)
        return ClassificationMetrics(
            top1=hits[0] / denominator,
            top5=hits[1] / denominator,
            loss=float(packed[-1]) / denominator,
            count=count,
            per_class=per_class_accuracy(confusion),
            confusion=confusion.tolist(),
        )


def fuse_scores(
    probabilities: Sequence[torch.Tensor], weights: Sequence[float] | None = None
) -> torch.Tensor:
    """The weighted mean ``(N, K)`` of the streams' softmax scores (equal weights by default)."""
    weights = [1.0] * len(probabilities) if weights is None else list(weights)
    if len(weights) != len(probabilities) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(
            f"weights {weights}: give one non-negative weight per checkpoint ({len(probabilities)}), "
            "not all zero"
        )
    stacked = torch.stack([p.double() for p in probabilities])  # (S, N, K)
    scale = torch.tensor(weights, dtype=torch.float64)[:, None, None]
    return ((stacked * scale).sum(dim=0) / scale.sum()).float()
