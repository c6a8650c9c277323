"""Confusion matrix as a PNG heat map (rows: true class, columns: predicted class)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from skeletonmae.viz.curves import pyplot, save_figure_atomic

MAX_LABELLED_CLASSES = 30  # beyond this, tick labels would be unreadable


def plot_confusion_matrix(
    confusion: Sequence[Sequence[int]] | np.ndarray,
    path: str | os.PathLike[str],
    class_names: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Row-normalised heat map of a (K, K) count matrix; counts are written in cells when K <= 15."""
    counts = np.asarray(confusion, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion matrix must be (K, K), got shape {counts.shape}")
    k = counts.shape[0]
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"{len(class_names)} class names for a {k}-class confusion matrix")
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    size = min(4.0 + 0.35 * k, 24.0)
    figure, axis = pyplot().subplots(figsize=(size, size * 0.9))
    image = axis.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="fraction of true class")
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if k <= MAX_LABELLED_CLASSES:
        names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
        axis.set_xticks(range(k), names, rotation=90, fontsize=8)
        axis.set_yticks(range(k), names, fontsize=8)
    if k <= 15:
        for row, column in zip(*np.nonzero(counts)):
            colour = "white" if rates[row, column] > 0.5 else "black"
            axis.text(column, row, counts[row, column], ha="center", va="center", fontsize=7, color=colour)
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return save_figure_atomic(figure, path, dpi=100)
