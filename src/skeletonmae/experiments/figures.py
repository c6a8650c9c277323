"""Sweep plots: top-1 against one axis (Figure 4: pre-training epochs) or against the label
fraction (Table 5), ours beside the paper's.

One line per combination of the other axes and label fraction, with the seeds' standard
deviation as error bars; the paper's values, where it has one for a row, as a dashed line on a
second series. matplotlib is imported inside the function.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skeletonmae.experiments.collect import listed_cells, listed_pretrains
from skeletonmae.experiments.grid import axis_labels, value_text
from skeletonmae.experiments.paper import LABEL_FRACTION_KEY
from skeletonmae.experiments.sweep_dir import PlanDocument

logger = logging.getLogger(__name__)


def numeric(value: Any) -> float | None:
    """``value`` as a float when it is a number, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _series_name(row: Any, x_key: str, axes: Sequence[str]) -> str:
    labels = axis_labels(axes)
    parts = [f"{labels[k]}={value_text(v)}" for k, v in row.axis_values.items() if k != x_key]
    if row.is_extra:
        parts.insert(0, row.variant)
    if row.label_fraction != 1.0 and x_key != LABEL_FRACTION_KEY:
        parts.append(f"labels={100 * row.label_fraction:g}%")
    return ", ".join(parts) or "SkeletonMAE"


def _x_value(row: Any, x_key: str) -> float | None:
    if x_key == LABEL_FRACTION_KEY:
        return 100.0 * row.label_fraction
    return numeric(row.axis_values.get(x_key))


def plot_sweep_rows(document: PlanDocument, rows: Sequence[Any], path: str | Path) -> Path | None:
    """Write the plot of ``document.plot`` to ``path``; None when no row has a number on
    the x axis (nothing to draw)."""
    spec = document.plot
    x_key = spec.x
    series: dict[str, list[tuple[float, Any]]] = {}
    for row in rows:
        x = _x_value(row, x_key)
        if x is not None:
            series.setdefault(_series_name(row, x_key, document.axes), []).append((x, row))
    if not series:
        logger.warning("plot %s: no row has a numeric %s; not drawn", path, x_key)
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skeletonmae.experiments.paper import benchmark_label
    from skeletonmae.viz.curves import save_figure_atomic

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, points in series.items():
        points.sort(key=lambda item: item[0])
        done = [(x, row) for x, row in points if row.top1]
        if done:
            axis.errorbar(
                [x for x, _ in done],
                [row.mean for _, row in done],
                yerr=[row.std or 0.0 for _, row in done],
                marker="o",
                capsize=3,
                label=f"ours: {name}",
            )
        paper = [(x, row.paper) for x, row in points if row.paper is not None]
        if paper:
            where = benchmark_label(paper[0][1].benchmark)
            axis.plot(
                [x for x, _ in paper],
                [number.top1 for _, number in paper],
                linestyle="--",
                marker="s",
                label=f"paper ({where})",
            )
    axis.set_xlabel(spec.x_label or x_key)
    axis.set_ylabel("top-1 accuracy (%)")
    axis.set_title(spec.title or document.title or document.name)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    try:
        return save_figure_atomic(figure, path, dpi=100)
    finally:
        plt.close(figure)


def _curve_runs(document: PlanDocument, output_root: Path, stage: str) -> list[tuple[str, Path]]:
    if stage == "pretrain":
        return [(p.name, Path(p.run_dir)) for p in listed_pretrains(document, output_root)]
    return [(c.finetune.name, Path(c.finetune.run_dir)) for c in listed_cells(document, output_root)]


def plot_sweep_curves(document: PlanDocument, output_root: str | Path) -> dict[str, Path]:
    """One PNG per stage with every run's validation curve: pre-training loss and fine-tuning
    top-1 against epoch (training values when a run has no validation). Runs without a
    ``metrics.csv`` are left out; a stage without any is not drawn."""
    import math

    from skeletonmae.viz.curves import read_metrics_csv

    written: dict[str, Path] = {}
    for stage, columns, label in (
        ("pretrain", ("val_loss", "train_loss"), "loss"),
        ("finetune", ("val_top1", "train_top1"), "top-1 (%)"),
    ):
        lines = []
        for name, run_dir in _curve_runs(document, Path(output_root), stage):
            path = run_dir / "metrics.csv"
            if not path.is_file():
                continue
            rows = read_metrics_csv(path)
            for column in columns:
                points = [(r["epoch"], r[column]) for r in rows if column in r and not math.isnan(r[column])]
                if points:
                    scale = 100.0 if stage == "finetune" else 1.0
                    lines.append(
                        (f"{name} ({column})", [p[0] for p in points], [scale * p[1] for p in points])
                    )
                    break
        if lines:
            written[stage] = _draw_curves(
                lines, Path(output_root) / f"curves_{stage}.png", f"{document.name}: {stage}", label
            )
    return written


def _draw_curves(
    lines: list[tuple[str, list[float], list[float]]], path: Path, title: str, y_label: str
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skeletonmae.viz.curves import save_figure_atomic

    figure, axis = plt.subplots(figsize=(9, 4.5))
    for name, xs, ys in lines:
        axis.plot(xs, ys, marker="o", markersize=2, linewidth=1, label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel(y_label)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6)
    figure.tight_layout()
    try:
        return save_figure_atomic(figure, path, dpi=100)
    finally:
        plt.close(figure)
