"""The sweep plot: top-1 against one axis (Figure 4: pre-training epochs) or the label fraction
(Table 5); one line per combination of the other axes, the seeds' std as error bars, the paper's dashed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skeletonmae.experiments.plan import SweepPlan, axis_labels, value_text
from skeletonmae.experiments.spec import LABEL_FRACTION_KEY
from skeletonmae.viz.curves import pyplot, save_figure_atomic

if TYPE_CHECKING:  # collect draws the figure: importing it here would close a circle
    from skeletonmae.experiments.collect import TableRow

logger = logging.getLogger(__name__)


def _series_name(row: TableRow, x_key: str) -> str:
    labels = axis_labels(list(row.settings))
    parts = [f"{labels[k]}={value_text(v)}" for k, v in row.settings.items() if k != x_key]
    if row.variant.is_extra:
        parts.insert(0, row.variant.name)
    if row.label_fraction != 1.0 and x_key != LABEL_FRACTION_KEY:
        parts.append(f"labels={100 * row.label_fraction:g}%")
    return ", ".join(parts) or "SkeletonMAE"


def _x_value(row: TableRow, x_key: str) -> float | None:
    if x_key == LABEL_FRACTION_KEY:
        return 100.0 * row.label_fraction
    value = row.settings.get(x_key)
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)


def plot_sweep_rows(plan: SweepPlan, rows: Sequence[TableRow], path: str | Path) -> Path | None:
    """Write the plot of the spec's ``plot`` to ``path``; None when no row has a number on its x axis."""
    spec = plan.spec.plot
    series: dict[str, list[tuple[float, TableRow]]] = {}
    for row in rows:
        x = _x_value(row, spec.x)
        if x is not None:
            series.setdefault(_series_name(row, spec.x), []).append((x, row))
    if not series:
        logger.warning("plot %s: no row has a numeric %s; not drawn", path, spec.x)
        return None
    figure, axis = pyplot().subplots(figsize=(6, 4))
    for name, points in series.items():
        points.sort(key=lambda item: item[0])
        done = [(x, row) for x, row in points if row.top1]
        if done:
            xs, ys = [x for x, _ in done], [row.mean for _, row in done]
            yerr = [row.std or 0.0 for _, row in done]
            axis.errorbar(xs, ys, yerr=yerr, marker="o", capsize=3, label=f"ours: {name}")
        paper = [(x, row.paper.top1) for x, row in points if row.paper is not None]
        if paper:
            axis.plot(*zip(*paper), linestyle="--", marker="s", label=f"paper ({plan.spec.paper.benchmark})")
    axis.legend(loc="best", fontsize=8)
    axis.set_xlabel(spec.x_label or spec.x)
    axis.set_ylabel("top-1 accuracy (%)")
    axis.set_title(spec.title or plan.spec.title or plan.spec.name)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return save_figure_atomic(figure, path, dpi=100)
