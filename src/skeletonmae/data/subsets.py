"""Seeded subsets: class-balanced label fractions for few-label protocols (1 %, 5 %, 10 %, ...) and
plain fractions of a split for data-scaling studies."""

from __future__ import annotations

import numpy as np


def label_fraction_indices(labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``round(fraction * n_c)`` (half up, at least 1) samples of every class ``c``,
    a prefix of a permutation drawn from ``(seed, c)``: for one seed the subsets are nested (1 % inside
    5 %) and independent of other classes. Unlabelled samples are never picked."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction} (e.g. 0.05 for 5 %)")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    chosen = []
    for label in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == label)
        take = max(1, int(np.floor(fraction * members.size + 0.5)))  # round half up
        order = np.random.default_rng([seed, int(label), 104_729]).permutation(members.size)
        chosen.append(members[order[:take]])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def fraction_indices(count: int, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``round(fraction * count)`` (half up, at least 1) of ``count`` samples, labels
    ignored: a prefix of one permutation drawn from ``seed``, so for one seed a smaller fraction lies
    inside a larger one. ``fraction = 1`` returns every index."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction} (e.g. 0.25 for a quarter)")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    take = max(1, int(np.floor(fraction * count + 0.5)))
    order = np.random.default_rng([seed, 7_919]).permutation(count)
    return np.sort(order[:take])
