"""The run's PNGs: confusion matrix (skeletonmae.viz.confusion) and curves (skeletonmae.viz.curves)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from skeletonmae.viz.confusion import plot_confusion_matrix
from skeletonmae.viz.curves import plot_training_curves, read_metrics_csv

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_confusion_png_is_written_atomically(tmp_path: Path):
    path = plot_confusion_matrix(np.array([[3, 1], [0, 4]]), tmp_path / "cm.png", ["a", "b"], title="test")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]
    big = plot_confusion_matrix(np.eye(60, dtype=int), tmp_path / "big.png")
    assert big.stat().st_size > 1000


def test_confusion_rejects_bad_shapes(tmp_path: Path):
    with pytest.raises(ValueError, match=r"must be \(K, K\)"):
        plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="3 class names for a 2-class"):
        plot_confusion_matrix(np.zeros((2, 2)), tmp_path / "x.png", ["a", "b", "c"])


def test_curves_from_csv_with_gaps(tmp_path: Path):
    source = tmp_path / "metrics.csv"
    with source.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["epoch", "train_loss", "val_loss", "val_top1"])
        writer.writerow([0, 2.0, "", ""])
        writer.writerow([1, 1.5, 1.7, 0.4])
    rows = read_metrics_csv(source)
    assert rows[0]["epoch"] == 0 and np.isnan(rows[0]["val_loss"])
    path = plot_training_curves(rows, tmp_path / "curves.png", title="run")
    assert path.read_bytes()[:8] == PNG_MAGIC
    loss_only = plot_training_curves([{"epoch": 0.0, "train_loss": 1.0}], tmp_path / "l.png")
    assert loss_only.read_bytes()[:8] == PNG_MAGIC


def test_read_metrics_csv_names_bad_line(tmp_path: Path):
    source = tmp_path / "metrics.csv"
    source.write_text("epoch,train_loss\n0,1.0\n1,oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"metrics.csv line 3"):
        read_metrics_csv(source)
