"""Collect a sweep's records into its table, Markdown + CSV: one row per variant and label fraction,
its seeds averaged; a cell without a result says why; the paper's number for the same setting beside
ours (:func:`paper_number`), the difference only when our benchmark is the paper's.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from skeletonmae.atomic import write_text_atomic
from skeletonmae.config import to_plain
from skeletonmae.experiments.plan import PlannedCell, SweepPlan, Variant, axis_labels, value_text
from skeletonmae.experiments.spec import (
    PaperColumn,
    PaperNumber,
    SweepSpec,
    flatten_settings,
    split_stage_key,
)
from skeletonmae.experiments.sweep_dir import RunRecord, read_record, record_path
from skeletonmae.models.cost import count_parameters
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.run_config import load_run_config
from skeletonmae.viz.curves import read_metrics_csv

REASON_CHARS = 160


@dataclasses.dataclass
class TableRow:
    """One row: a variant at one label fraction, over its seeds."""

    variant: Variant
    label_fraction: float
    settings: dict[str, Any]  # axis key -> the value the row's runs have
    paper: PaperNumber | None = None
    parameters: dict[str, int] | None = None
    seeds: list[int] = dataclasses.field(default_factory=list)
    top1: list[float] = dataclasses.field(default_factory=list)  # % of the seeds that completed
    problems: list[str] = dataclasses.field(default_factory=list)  # why the other seeds have no result
    finetune_seconds: list[float] = dataclasses.field(default_factory=list)
    pretrain: RunRecord | None = None  # the variant's one pre-training, once complete
    interp_ratio: float | None = None  # its val_interp_ratio at its best epoch (model / interpolation MSE)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.top1) if self.top1 else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.top1) if len(self.top1) >= 2 else None


def cell_settings(cell: PlannedCell, keys: Iterable[str]) -> dict[str, Any]:
    """Our values of sweep ``keys`` in ``cell``'s run configs, a key without stage prefix from its
    pre-training's (both stages share it); keys the configs lack (a from-scratch cell's) left out."""
    flat = {
        "finetune": flatten_settings(to_plain(cell.finetune.config)),
        "pretrain": flatten_settings(to_plain(cell.pretrain.config)) if cell.pretrain else {},
    }
    values = {}
    for key in keys:
        stage, bare = split_stage_key(key)
        config = flat[stage or "pretrain"]
        if bare in config:
            values[key] = config[bare]
    return values


def paper_number(paper: PaperColumn, ours: Mapping[str, Any]) -> PaperNumber | None:
    """The most specific of the paper's numbers whose every setting has our value in ``ours``
    once ``equivalents`` translated it to the paper's scale; None when none matches."""

    def same(key: str, theirs: Any) -> bool:
        value = paper.equivalents.get(key, {}).get(value_text(ours[key]), ours[key])
        return value == theirs and isinstance(value, bool) == isinstance(theirs, bool)

    matches = [n for n in paper.numbers if all(k in ours and same(k, v) for k, v in n.setting.items())]
    return max(matches, key=lambda n: len(n.setting), default=None)


def run_parameters(run_dir: Path) -> dict[str, int] | None:
    """Decoder and total parameters of the MAE a pre-training run folder trains (its data-bound
    ``config.yaml``, counted on the meta device); None before the run has started."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        return None
    config = load_run_config(path)[0]
    with torch.device("meta"):
        model = SkeletonMAE(config.model, config.mask)
    return {name: count_parameters(part) for name, part in [("decoder", model.decoder), ("total", model)]}


def _new_row(spec: SweepSpec, cell: PlannedCell) -> TableRow:
    keys = {key for number in spec.paper.numbers for key in number.setting} | set(spec.axes)
    values = cell_settings(cell, keys)
    own = dict(cell.variant.axis_values)  # a from-scratch cell shows only the settings it names
    axes = {key: own.get(key, values.get(key)) for key in spec.axes}
    if cell.pretrain is None:  # the paper's numbers are all of pre-trained models
        return TableRow(cell.variant, cell.label_fraction, axes)
    parameters = run_parameters(cell.pretrain.run_dir) if spec.show_parameters else None
    return TableRow(cell.variant, cell.label_fraction, axes, paper_number(spec.paper, values), parameters)


def collect_rows(plan: SweepPlan) -> list[TableRow]:
    """One row per variant and label fraction, from the runs' records (every shard's)."""

    @functools.cache
    def record(stage: str, name: str) -> RunRecord | None:  # a shared pre-training's is read once
        return read_record(record_path(plan.spec.output_root, stage, name))

    rows: dict[tuple[str, float], TableRow] = {}
    for cell in plan.cells:
        key = (cell.variant.name, cell.label_fraction)
        if key not in rows:
            rows[key] = _new_row(plan.spec, cell)
        pretrain = record("pretrain", cell.pretrain.name) if cell.pretrain else None
        _add_cell(rows[key], cell, pretrain, record("finetune", cell.finetune.name))
    return list(rows.values())


def _add_cell(row: TableRow, cell: PlannedCell, pretrain: RunRecord | None, finetune: RunRecord | None):
    row.seeds.append(cell.seed)
    pretrain_ok = pretrain is not None and pretrain.status == "complete"
    if pretrain_ok and row.pretrain is None:  # the cells of a row share one pre-training
        row.pretrain = pretrain
        row.interp_ratio = best_epoch_value(cell.pretrain.run_dir, pretrain.best_epoch, "val_interp_ratio")
    done = finetune is not None and finetune.status == "complete" and finetune.best_metric is not None
    if done and (cell.pretrain is None or pretrain_ok):
        row.top1.append(100.0 * finetune.best_metric)
        row.finetune_seconds.append(finetune.seconds)
    else:
        row.problems.append(_problem(finetune, pretrain, cell.pretrain is not None))


def _problem(finetune: RunRecord | None, pretrain: RunRecord | None, pretrained: bool) -> str:
    stage, record = "", finetune
    if pretrained and (pretrain is None or pretrain.status != "complete"):
        stage, record = "pre-training ", pretrain
    if record is None:
        return "not run yet"
    if record.status == "running":
        return f"{stage or 'fine-tuning '}not finished (running, or interrupted: re-run the sweep to resume)"
    if record.status == "failed":
        return f"{stage}failed: {record.reason}"
    return "finished without a validation metric (data.val_split is null)"


def best_epoch_value(run_dir: Path, epoch: int | None, column: str) -> float | None:
    """``column`` of ``run_dir/metrics.csv`` at ``epoch`` (None when absent: older runs)."""
    path = run_dir / "metrics.csv"
    if epoch is None or not path.is_file():
        return None
    for row in read_metrics_csv(path):
        if int(row.get("epoch", -1)) == epoch and math.isfinite(row.get(column, math.nan)):
            return row[column]
    return None


def format_top1(row: TableRow) -> str:
    """``85.3 ± 0.4 (n=3)``, ``85.3``, ``84.9 (2 of 3; failed: ...)`` or the failure reason."""
    if not row.top1:
        return "; ".join(_short(r) for r in sorted(set(row.problems))) or "not run yet"
    text = f"{row.mean:.1f}"
    if row.std is not None:
        text += f" ± {row.std:.1f} (n={len(row.top1)})"
    if row.problems:
        text += f" ({len(row.top1)} of {len(row.seeds)}; {_short(row.problems[0])})"
    return text


def _short(reason: str) -> str:
    reason = " ".join(reason.split()).replace("|", "/")
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3] + "..."


def format_duration(seconds: float | None) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``; ``—`` for nothing measured."""
    if not seconds or seconds <= 0:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _paper_columns(spec: SweepSpec) -> list[str]:
    """``paper <benchmark> (%)``, and ``Δ`` when our benchmark is the paper's; none without numbers."""
    benchmark, same = spec.paper.benchmark, spec.paper.benchmark == spec.dataset.benchmark
    return [f"paper {benchmark} (%)", *(["Δ"] if same else [])] if spec.paper.numbers else []


def _columns(spec: SweepSpec, rows: Sequence[TableRow]) -> list[str]:
    """The cell (with extra cells), one column per axis, the label fraction (unless only 100 %), results."""
    columns = ["cell"] if any(row.variant.is_extra for row in rows) else []
    columns += list(axis_labels(list(spec.axes)).values())
    columns += (["labels"] if spec.label_fractions != (1.0,) else []) + ["top-1 (%)", *_paper_columns(spec)]
    columns += ["decoder params (M)", "MAE params (M)"] if spec.show_parameters else []
    return columns + ["pre-train val loss", "MSE / interp.", "pre-train time", "fine-tune time/seed"]


def _row_cells(spec: SweepSpec, row: TableRow) -> dict[str, str]:
    """Every column's text for ``row`` (a column left out here shows ``—``)."""
    # the one grid row of an axis-free spec (e.g. Table 5) is the pre-trained model itself
    cells = {"cell": row.variant.name if row.variant.is_extra else "grid" if spec.axes else "pre-trained"}
    for key, label in axis_labels(list(spec.axes)).items():
        cells[label] = "—" if row.settings[key] is None else value_text(row.settings[key])
    cells["labels"] = f"{100 * row.label_fraction:g} %"
    cells["top-1 (%)"] = format_top1(row)
    if row.paper:
        paper, *delta = _paper_columns(spec)
        cells[paper] = f"{row.paper.top1:.1f}"
        if delta and row.top1:
            cells["Δ"] = f"{row.mean - row.paper.top1:+.1f}"
    if row.parameters:
        cells["decoder params (M)"] = f"{row.parameters['decoder'] / 1e6:.3f}"
        cells["MAE params (M)"] = f"{row.parameters['total'] / 1e6:.3f}"
    if row.pretrain is not None and row.pretrain.best_metric is not None:
        cells["pre-train val loss"] = f"{row.pretrain.best_metric:.4g}"
    cells["pre-train time"] = format_duration(row.pretrain.seconds if row.pretrain else None)
    if row.interp_ratio is not None:
        cells["MSE / interp."] = f"{row.interp_ratio:.2f}"
    cells["fine-tune time/seed"] = format_duration(statistics.fmean(row.finetune_seconds or [0.0]))
    return cells


def format_markdown_table(plan: SweepPlan, rows: Sequence[TableRow]) -> str:
    """The rows as a Markdown table, no cell empty."""
    columns = _columns(plan.spec, rows)
    lines = [columns, ["---"] * len(columns)]
    lines += [[_row_cells(plan.spec, row).get(c, "—") for c in columns] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _csv_record(spec: SweepSpec, row: TableRow) -> dict[str, Any]:
    pretrain, params = row.pretrain, row.parameters or {}
    return {
        "cell": row.variant.name,
        **row.settings,
        "label_fraction": row.label_fraction,
        "top1_mean": row.mean,
        "top1_std": row.std,
        "seeds_done": len(row.top1),
        "seeds_total": len(row.seeds),
        "top1_per_seed": ";".join(f"{v:.4f}" for v in row.top1),
        "paper_top1": row.paper.top1 if row.paper else None,
        "paper_benchmark": spec.paper.benchmark if row.paper else None,
        "decoder_params": params.get("decoder"),
        "total_params": params.get("total"),
        "pretrain_val_loss": pretrain.best_metric if pretrain else None,
        "pretrain_interp_ratio": row.interp_ratio,
        "pretrain_seconds": (pretrain.seconds if pretrain else 0.0) or None,  # a snapshot's: 0
        "finetune_seconds_mean": statistics.fmean(row.finetune_seconds) if row.finetune_seconds else None,
        "problems": " | ".join(row.problems),
    }


def results_csv(plan: SweepPlan, rows: Sequence[TableRow]) -> str:
    """Machine-readable table: one line per row, numbers unformatted (None: empty), reasons in full."""
    records = [_csv_record(plan.spec, row) for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def sweep_markdown(plan: SweepPlan, rows: Sequence[TableRow], plot: str | None, heading: str = "#") -> str:
    """A sweep's table section: heading, what is compared with what, the table, the plot (a link)."""
    spec, paper = plan.spec, plan.spec.paper
    ours = spec.dataset.benchmark or "unknown benchmark"
    lines = [
        f"{heading} {spec.title or spec.name}",
        "",
        f"Dataset: {ours} (`{spec.dataset.root}`); seeds {list(spec.seeds)}; "
        "top-1 is the best validation accuracy of each fine-tuning run, as in the paper.",
    ]
    if paper.numbers:
        lines.append(f"Paper column: SkeletonMAE on {paper.benchmark}. {paper.about}".strip())
        if paper.benchmark != spec.dataset.benchmark:
            lines.append(f"Ours ran on {ours}, the paper's on {paper.benchmark}: compare trends, not values.")
        if paper.equivalents:
            lines.append(f"Our settings map to the paper's as {paper.equivalents}.")
    lines += ["", format_markdown_table(plan, rows), ""]
    if plot:
        lines += [f"![top-1 against {spec.plot.x}]({plot})", ""]
    return "\n".join(lines)


def write_sweep_tables(plan: SweepPlan, rows: Sequence[TableRow] | None = None) -> dict[str, Path]:
    """Write results.md and results.csv (and the plot) into the sweep's output root;
    ``rows``: :func:`collect_rows` of ``plan``, collected here when not given."""
    root, plot = plan.spec.output_root, None
    rows = collect_rows(plan) if rows is None else rows
    if plan.spec.plot is not None:
        from skeletonmae.experiments.figures import plot_sweep_rows

        plot = plot_sweep_rows(plan, rows, root / f"{plan.spec.name}.png")
    markdown = write_text_atomic(root / "results.md", sweep_markdown(plan, rows, plot.name if plot else None))
    written = {"markdown": markdown, "csv": write_text_atomic(root / "results.csv", results_csv(plan, rows))}
    return {**written, "plot": plot} if plot else written
