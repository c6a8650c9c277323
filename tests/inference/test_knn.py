"""Cosine k-NN: hand-computed votes, an independent loop reference, known toy answers, weighting
vs majority, bad input. ``reference_knn_accuracy`` also checks ``skeletonmae probe``'s k-NN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skeletonmae.config import FieldValueError
from skeletonmae.inference.knn import KnnConfig, knn_class_scores, knn_evaluate


def reference_knn_scores(
    train, labels, test, num_classes, k, temperature=0.07, weighted=True, standardize=False
):
    """Vote totals ``(N_test, num_classes)`` written from the definition, one query and one
    neighbour at a time in float64 (no shared code with the library)."""
    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    if standardize:
        mean, std = train.mean(axis=0), np.maximum(train.std(axis=0), 1e-6)
        train, test = (train - mean) / std, (test - mean) / std
    scores = np.zeros((len(test), num_classes))
    for row, query in enumerate(test):
        cosines = [float(query @ t) / (np.linalg.norm(query) * np.linalg.norm(t)) for t in train]
        nearest = sorted(range(len(train)), key=lambda j: -cosines[j])[: min(k, len(train))]
        for j in nearest:
            scores[row, int(labels[j])] += math.exp(cosines[j] / temperature) if weighted else 1.0
    return scores


def reference_knn_accuracy(train, train_labels, test, test_labels, num_classes, **knn):
    """``(top1, top5)`` fractions from :func:`reference_knn_scores`; ties rank the lower class
    first; top5 is None with fewer than 5 classes."""
    scores = reference_knn_scores(train, train_labels, test, num_classes, **knn)
    ranked = np.argsort(-scores, axis=1, kind="stable")
    truth = np.asarray(test_labels)
    top1 = float(np.mean(ranked[:, 0] == truth))
    top5 = float(np.mean((ranked[:, :5] == truth[:, None]).any(axis=1))) if num_classes >= 5 else None
    return top1, top5


@pytest.mark.parametrize(
    "knn",
    [
        {"k": 7},
        {"k": 7, "temperature": 0.5, "standardize": True},
        {"k": 3, "weighted": False},  # tied votes: the lower class ranks first
        {"k": 500, "temperature": 0.1, "standardize": True},  # k clamped to the 60 training rows
    ],
)
def test_scores_and_accuracy_match_the_loop_reference(knn):
    rng = np.random.default_rng(3)
    centres = 2.0 * rng.standard_normal((6, 10))
    train_labels, test_labels = rng.integers(0, 6, 60), rng.integers(0, 6, 25)
    train = centres[train_labels] + rng.standard_normal((60, 10)) + 4.0  # offset: standardising matters
    test = centres[test_labels] + rng.standard_normal((25, 10)) + 4.0
    config = KnnConfig(chunk_size=4, **knn)  # several chunks
    scores = knn_class_scores(train, train_labels, test, 6, config).numpy()
    np.testing.assert_allclose(scores, reference_knn_scores(train, train_labels, test, 6, **knn), rtol=1e-4)
    result = knn_evaluate(train, train_labels, test, test_labels, 6, config)
    top1, top5 = reference_knn_accuracy(train, train_labels, test, test_labels, 6, **knn)
    assert result.top1 == pytest.approx(top1) and result.top5 == pytest.approx(top5)
    assert 0.2 < result.top1 < 1.0  # neither trivial nor chance: the comparison has teeth


def test_votes_match_the_hand_computed_weighted_sum():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1])
    query = np.array([[1.0, 0.1]])
    scores = knn_class_scores(train, labels, query, 2, KnnConfig(k=2, temperature=0.5)).numpy()
    norm = math.hypot(1.0, 0.1)
    cos_first = 1.0 / norm  # nearest: [1, 0] (class 0)
    cos_third = 1.1 / (norm * math.sqrt(2))  # second nearest: [1, 1] (class 1); [0, 1] is out
    expected = [math.exp(cos_first / 0.5), math.exp(cos_third / 0.5)]
    np.testing.assert_allclose(scores[0], expected, rtol=1e-5)


def test_two_clusters_are_classified_perfectly_and_k_is_clamped():
    rng = np.random.default_rng(0)
    centres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    train_labels = np.repeat(np.arange(3), 10)
    train = centres[train_labels] + 0.05 * rng.standard_normal((30, 3))
    test_labels = np.array([2, 0, 1, 1, 0])
    test = centres[test_labels] + 0.05 * rng.standard_normal((5, 3))
    result = knn_evaluate(train, train_labels, test, test_labels, 3)  # k=200 > 30 samples
    assert result.k == 30 and result.num_train == 30 and result.num_test == 5
    assert result.top1 == 1.0 and result.top5 is None  # fewer than 5 classes
    np.testing.assert_array_equal(result.predictions, test_labels)


def test_weighted_and_majority_votes_disagree_where_they_should():
    # One class-0 neighbour very close, two class-1 neighbours far away.
    train = np.array([[1.0, 0.0], [0.2, 1.0], [-0.2, 1.0]])
    labels = np.array([0, 1, 1])
    query = np.array([[1.0, 0.05]])
    weighted = knn_evaluate(train, labels, query, [0], 2, KnnConfig(k=3, temperature=0.07))
    majority = knn_evaluate(train, labels, query, [0], 2, KnnConfig(k=3, weighted=False))
    assert weighted.predictions[0] == 0 and weighted.top1 == 1.0
    assert majority.predictions[0] == 1 and majority.top1 == 0.0
    np.testing.assert_array_equal(majority.scores[0], [1.0, 2.0])


def test_cosine_similarity_ignores_feature_scale():
    rng = np.random.default_rng(1)
    train, test = rng.standard_normal((40, 8)), rng.standard_normal((6, 8))
    labels = rng.integers(0, 5, 40)
    config = KnnConfig(k=7)
    base = knn_class_scores(train, labels, test, 5, config)
    scaled = knn_class_scores(train * 3.0, labels, test * 0.01, 5, config)
    np.testing.assert_allclose(base.numpy(), scaled.numpy(), rtol=1e-4)


def test_top5_counts_a_label_in_the_five_best_classes():
    train = np.eye(6)
    labels = np.arange(6)
    query = np.array([[1.0, 0.9, 0.8, 0.7, 0.6, 0.0]])
    result = knn_evaluate(train, labels, query, [4], 6, KnnConfig(k=6))
    assert result.top1 == 0.0 and result.top5 == 1.0
    result = knn_evaluate(train, labels, query, [5], 6, KnnConfig(k=6))
    assert result.top5 == 0.0


@pytest.mark.parametrize(
    "field, value", [("k", 0), ("temperature", 0.0), ("chunk_size", 0), ("weighted", "yes")]
)
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(FieldValueError, match=field):
        KnnConfig(**{field: value})


def test_bad_features_and_labels_raise_clear_errors():
    train, labels = np.ones((3, 4)), np.array([0, 1, 1])
    with pytest.raises(ValueError, match="dimensions"):
        knn_class_scores(train, labels, np.ones((2, 5)), 2)
    with pytest.raises(ValueError, match="must lie in 0..1"):
        knn_class_scores(train, np.array([0, 1, 2]), np.ones((2, 4)), 2)
    with pytest.raises(ValueError, match="NaN"):
        knn_class_scores(np.full((3, 4), np.nan), labels, np.ones((2, 4)), 2)
    with pytest.raises(ValueError, match="2 labels for 3"):
        knn_class_scores(train, labels[:2], np.ones((2, 4)), 2)
    with pytest.raises(ValueError, match="non-empty"):
        knn_class_scores(np.ones((0, 4)), labels[:0], np.ones((2, 4)), 2)


def test_standardised_knn_is_not_swamped_by_one_large_dimension():
    # dimension 0 (offset 100, spread 30) says nothing about the class; dimension 1 (5 +- 0.5) does.
    # The cosine of the raw features is ruled by dimension 0; z-scored, both count alike.
    rng = np.random.default_rng(0)
    train_labels, test_labels = np.repeat([0, 1], 20), np.repeat([0, 1], 10)

    def samples(labels):
        signal = 5 + np.where(labels[:, None] == 0, 0.5, -0.5) + 0.2 * rng.standard_normal((len(labels), 1))
        return np.concatenate([100 + 30 * rng.standard_normal((len(labels), 1)), signal], axis=1)

    train, test = samples(train_labels), samples(test_labels)
    plain = knn_evaluate(train, train_labels, test, test_labels, 2, KnnConfig(k=5))
    standard = knn_evaluate(train, train_labels, test, test_labels, 2, KnnConfig(k=5, standardize=True))
    assert standard.top1 == 1.0 and plain.top1 < 0.8
    # the same as plain k-NN on features z-scored by hand with the training bank's statistics
    mean, std = train.mean(axis=0), train.std(axis=0)
    config = KnnConfig(k=5, standardize=True)
    by_hand = knn_class_scores((train - mean) / std, train_labels, (test[:3] - mean) / std, 2, KnnConfig(k=5))
    scores = knn_class_scores(train, train_labels, test[:3], 2, config)
    np.testing.assert_allclose(scores.numpy(), by_hand.numpy(), rtol=1e-4)
