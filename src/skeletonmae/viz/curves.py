"""Loss and accuracy curves of a run as a PNG (read from the run's metrics rows or metrics.csv),
and the two helpers every picture uses (:func:`pyplot`, :func:`save_figure_atomic`).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from skeletonmae.atomic import atomic_path

LOSS_COLUMNS = ("train_loss", "val_loss")
ACCURACY_COLUMNS = ("train_top1", "val_top1", "val_top5")
# Pre-training: the model's masked-token MSE beside the predictors that learn nothing.
BASELINE_COLUMNS = {
    "val_masked_mse": "model",
    "val_static_mse": "static pose",
    "val_interp_mse": "temporal interpolation",
}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend, imported on first use (so the library
    imports without matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure_atomic(figure: Any, path: str | os.PathLike[str], **savefig_kwargs: Any) -> Path:
    """``figure.savefig`` to a temp file in the target folder, then ``os.replace`` it into place;
    the figure is closed, saved or not."""
    try:
        with atomic_path(path) as temp:
            figure.savefig(temp, **savefig_kwargs)
    finally:
        pyplot().close(figure)
    return Path(path)


def read_metrics_csv(path: str | os.PathLike[str]) -> list[dict[str, float]]:
    """Rows of a metrics.csv as dicts of floats (empty cells become NaN)."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as stream:
        rows = []
        for line_number, row in enumerate(csv.DictReader(stream), start=2):
            try:
                rows.append({k: float(v) if v not in ("", None) else math.nan for k, v in row.items()})
            except ValueError as error:
                raise ValueError(f"{path} line {line_number}: expected numbers ({error})") from None
    return rows


def _series(rows: Sequence[Mapping[str, float]], column: str) -> tuple[list[float], list[float]]:
    points = [
        (r["epoch"], r[column])
        for r in rows
        if column in r and r[column] is not None and not math.isnan(r[column])
    ]
    return [p[0] for p in points], [p[1] for p in points]


def plot_training_curves(
    rows: Sequence[Mapping[str, float]], path: str | os.PathLike[str], title: str = ""
) -> Path:
    """Loss (left) and accuracy (right, when any accuracy column exists) against epoch."""
    accuracy_columns = [c for c in ACCURACY_COLUMNS if _series(rows, c)[0]]
    has_baselines = bool(_series(rows, "val_interp_mse")[0])
    panels = 1 + bool(accuracy_columns) + has_baselines
    figure, axes = pyplot().subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    _plot_columns(axes[0][0], rows, LOSS_COLUMNS, "loss")
    if accuracy_columns:
        _plot_columns(axes[0][1], rows, accuracy_columns, "accuracy (%)", scale=100.0)
    if has_baselines:
        _plot_baselines(axes[0][panels - 1], rows)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return save_figure_atomic(figure, path, dpi=100)


def _plot_columns(
    axis: Any, rows: Sequence[Mapping[str, float]], columns: Sequence[str], label: str, scale: float = 1.0
) -> None:
    """One panel: each column that has values (times ``scale``) against epoch."""
    for column in columns:
        xs, ys = _series(rows, column)
        if xs:
            axis.plot(xs, [scale * y for y in ys], marker="o", markersize=3, label=column)
    axis.set_xlabel("epoch")
    axis.set_ylabel(label)
    axis.legend(loc="best")
    axis.grid(alpha=0.3)


def _plot_baselines(axis: Any, rows: Sequence[Mapping[str, float]]) -> None:
    """Masked-token validation MSE of the model against the static-pose and interpolation
    predictors on the same masks (log scale: they differ by orders of magnitude)."""
    for column, label in BASELINE_COLUMNS.items():
        xs, ys = _series(rows, column)
        if xs:
            style = {"marker": "o", "markersize": 3} if column == "val_masked_mse" else {"ls": "--"}
            axis.plot(xs, ys, label=label, **style)
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("masked-token MSE (validation)")
    axis.set_title("below interpolation = learned more than interpolating", fontsize=9)
    axis.legend(loc="best")
    axis.grid(alpha=0.3, which="both")
