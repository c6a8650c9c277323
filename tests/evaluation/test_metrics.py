"""Metrics on known predictions: top-k, confusion matrix, per-class accuracy, the device tally."""

from __future__ import annotations

import math

import pytest
import torch

from skeletonmae.evaluation.metrics import (
    ClassificationTally,
    confusion_matrix,
    per_class_accuracy,
    topk_correct,
)

# 6 samples, 6 classes. Rows are logits whose ranking we know exactly.
LOGITS = torch.tensor(
    [
        [9.0, 1, 2, 3, 4, 5],  # label 0: rank 1
        [2.0, 1, 9, 3, 4, 5],  # label 1: rank 6 (worst)
        [1.0, 2, 9, 3, 4, 5],  # label 2: rank 1
        [1.0, 8, 9, 3, 4, 5],  # label 1: rank 2
        [6.0, 8, 9, 7, 4, 5],  # label 4: rank 6
        [6.0, 8, 9, 7, 4, 5],  # label 5: rank 5
    ]
)
LABELS = torch.tensor([0, 1, 2, 1, 4, 5])


def test_topk_counts():
    assert topk_correct(LOGITS, LABELS, (1, 2, 5, 6)).tolist() == [2, 3, 4, 6]
    assert topk_correct(LOGITS[:, :3], torch.tensor([0, 1, 2, 1, 0, 1]), (1, 5)).tolist() == [2, 6]


def test_confusion_and_per_class():
    confusion = confusion_matrix(LOGITS.argmax(1), LABELS, 6)
    expected = torch.zeros(6, 6, dtype=torch.int64)
    for true, predicted in [(0, 0), (1, 2), (2, 2), (1, 2), (4, 2), (5, 2)]:
        expected[true, predicted] += 1
    assert torch.equal(confusion, expected)
    accuracy = per_class_accuracy(confusion)
    assert accuracy[:3] == [1.0, 0.0, 1.0]
    assert math.isnan(accuracy[3])  # no sample of class 3
    assert accuracy[4:] == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"labels must be in \[0, 6\)"):
        confusion_matrix(torch.tensor([0]), torch.tensor([6]), 6)


def test_tally_over_batches_matches_whole_set():
    tally = ClassificationTally(num_classes=6, device=torch.device("cpu"))
    losses = torch.nn.functional.cross_entropy(LOGITS, LABELS, reduction="none")
    for part in (slice(0, 4), slice(4, 6)):
        tally.update(LOGITS[part], LABELS[part], losses[part].sum())
    metrics = tally.compute()
    assert metrics.count == 6
    assert metrics.top1 == pytest.approx(2 / 6)
    assert metrics.top5 == pytest.approx(4 / 6)
    assert metrics.loss == pytest.approx(float(losses.mean()))
    assert metrics.mean_class_accuracy == pytest.approx(2 / 5)
    assert metrics.confusion[1][2] == 2


def test_tally_rejects_wrong_class_count():
    tally = ClassificationTally(num_classes=5, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="logits have 6 classes"):
        tally.update(LOGITS, LABELS, torch.tensor(0.0))
