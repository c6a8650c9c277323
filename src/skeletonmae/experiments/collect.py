"""Collect a sweep's records into its table: Markdown + CSV, every cell filled.

One table row per variant and label fraction; its seeds are averaged (mean +- sample standard
deviation, with ``n`` when more than one seed). A cell without a result says why: the run's
failure reason, its pre-training's failure reason, or ``not run yet``. Cells outside the sweep's
``only`` are listed when they have a result (an earlier sweep with another ``only`` ran them in the
same output root), so a grid run in parts ends in one table. Beside ours, the paper's
SkeletonMAE number for the same setting (after the spec's ``equivalents`` translate a scaled
setting to the paper's scale); the difference is shown only when the benchmark is the paper's.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from skeletonmae.atomic import write_text_atomic
from skeletonmae.experiments.paper import (
    FIGURE4_NOTE,
    LABEL_FRACTION_KEY,
    PAPER_BENCHMARKS,
    PAPER_FIXED_SETTING,
    PAPER_TABLES,
    PaperNumber,
    benchmark_label,
    find_paper_number,
    paper_numbers,
)
from skeletonmae.experiments.plan import PlannedCell, PlannedRun, SweepPlan, Variant, axis_labels, value_text
from skeletonmae.experiments.sweep_dir import RunRecord, read_record, record_path
from skeletonmae.viz.curves import read_metrics_csv

REASON_CHARS = 160


@dataclasses.dataclass
class TableRow:
    """One row: a variant at one label fraction, over its seeds."""

    variant: Variant
    label_fraction: float
    setting: dict[str, Any]  # at the paper's scale (its number is matched on it)
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

    @property
    def pretrain_loss(self) -> float | None:
        return self.pretrain.best_metric if self.pretrain else None

    @property
    def pretrain_seconds(self) -> float:
        return self.pretrain.seconds if self.pretrain else 0.0

    @property
    def finetune_seconds_mean(self) -> float | None:
        return statistics.fmean(self.finetune_seconds) if self.finetune_seconds else None

    def axis_value(self, key: str) -> Any:
        """The row's value of axis ``key`` (an extra cell's: the setting it ran with)."""
        return dict(self.variant.axis_values).get(key, self.setting.get(key))


def paper_benchmark(plan: SweepPlan) -> str:
    """The paper column's benchmark: ours when the paper has it, else NTU-60 X-Sub (the benchmark
    of every ablation)."""
    ours = plan.spec.dataset.benchmark
    return ours if ours in PAPER_BENCHMARKS else "ntu60-xsub"


def comparison_setting(cell: PlannedCell) -> dict[str, Any]:
    """The values a paper number is matched on, in the sweep's key namespace."""
    setting: dict[str, Any] = dict(cell.variant.axis_values)
    if cell.pretrain is not None:
        config = cell.pretrain.config
        setting.update(
            {
                "mask.strategy": config.mask.strategy,
                "mask.frame_ratio": config.mask.frame_ratio,
                "mask.joint_ratio": config.mask.joint_ratio,
                "model.decoder_width": config.model.decoder_width,
                "model.decoder_depth": config.model.decoder_depth,
                "pretrain.training.epochs": config.training.epochs,
            }
        )
    setting[LABEL_FRACTION_KEY] = cell.label_fraction
    return setting


def translate_setting(
    setting: Mapping[str, Any], equivalents: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Replace our values by the paper-scale ones given in ``equivalents`` (keys as text)."""
    translated = dict(setting)
    for key, table in equivalents.items():
        if key not in translated:
            continue
        value = translated[key]
        texts = [value_text(value)]
        if isinstance(value, float) and value.is_integer():
            texts.append(str(int(value)))
        for text in texts:
            if text in table:
                translated[key] = table[text]
                break
    return translated


def _problem(record: RunRecord | None, pretrain: RunRecord | None, pretrained: bool) -> str:
    if pretrained and (pretrain is None or pretrain.status != "complete"):
        if pretrain is None:
            return "not run yet"
        if pretrain.status == "running":
            return "pre-training not finished (running, or interrupted: re-run the sweep to resume)"
        return f"pre-training failed: {pretrain.reason}"
    if record is None:
        return "not run yet"
    if record.status == "running":
        return "fine-tuning not finished (running, or interrupted: re-run the sweep to resume)"
    if record.status == "failed":
        return f"failed: {record.reason}"
    return "finished without a validation metric (data.val_split is null)"


def listed_cells(plan: SweepPlan) -> list[PlannedCell]:
    """The plan's cells the table shows: those the sweep selected (``only``) and those outside
    it that have a record (run by an earlier sweep with another ``only``), in plan order."""
    return [
        cell
        for cell in plan.cells
        if cell.selected or record_path(plan.output_root, "finetune", cell.finetune.name).is_file()
    ]


def listed_runs(plan: SweepPlan) -> list[PlannedRun]:
    """Every run of the listed cells: their pre-trainings, then their fine-tunings, in plan order."""
    cells = listed_cells(plan)
    used = {cell.pretrain.name for cell in cells if cell.pretrain}
    return [run for run in plan.pretrains if run.name in used] + [cell.finetune for cell in cells]


def run_parameters(run_dir: Path) -> dict[str, int] | None:
    """Encoder / decoder / total parameters of the MAE a pre-training run folder trains, from its
    data-bound ``config.yaml`` and counted on the meta device; None before the run has started."""
    import torch

    from skeletonmae.models.cost import count_parameters
    from skeletonmae.models.factory import build_mae
    from skeletonmae.training.run_config import load_run_config

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        return None
    config = load_run_config(path)[0]
    with torch.device("meta"):
        model = build_mae(config.model, config.mask)
    return {
        "encoder": count_parameters(model.encoder),
        "decoder": count_parameters(model.decoder),
        "total": count_parameters(model),
    }


def _new_row(plan: SweepPlan, cell: PlannedCell, candidates: Sequence[PaperNumber]) -> TableRow:
    setting = translate_setting(comparison_setting(cell), plan.spec.paper.equivalents)
    # The paper's numbers are all of pre-trained models: none for a from-scratch row.
    paper = None if cell.variant.from_scratch else find_paper_number(candidates, setting)
    counted = plan.spec.show_parameters and cell.pretrain is not None
    parameters = run_parameters(cell.pretrain.run_dir) if counted else None
    return TableRow(cell.variant, cell.label_fraction, setting, paper, parameters)


def collect_rows(plan: SweepPlan) -> list[TableRow]:
    """One row per variant and label fraction of the listed cells, from the runs' records."""
    table = plan.spec.paper.table
    candidates = paper_numbers(table, benchmark=paper_benchmark(plan)) if table else []

    @functools.cache
    def record(stage: str, name: str) -> RunRecord | None:  # a shared pre-training's is read once
        return read_record(record_path(plan.output_root, stage, name))

    rows: dict[tuple[str, float], TableRow] = {}
    for cell in listed_cells(plan):
        key = (cell.variant.name, cell.label_fraction)
        row = rows.get(key) or rows.setdefault(key, _new_row(plan, cell, candidates))
        pretrain = record("pretrain", cell.pretrain.name) if cell.pretrain else None
        _add_cell(row, cell, pretrain, record("finetune", cell.finetune.name))
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
    """``85.3 ± 0.4 (n=3)``, ``85.3``, ``84.9 (2 of 3; 1 failed: ...)`` or the failure reason."""
    if not row.top1:
        reasons = sorted(set(row.problems))
        return "; ".join(_short(r) for r in reasons) or "not run yet"
    text = f"{row.mean:.1f}"
    if row.std is not None:
        text += f" ± {row.std:.1f} (n={len(row.top1)})"
    if row.problems:
        text += f" ({len(row.top1)} of {len(row.seeds)}; {_short(row.problems[0])})"
    return text


def _short(reason: str) -> str:
    reason = " ".join(reason.split()).replace("|", "/")
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3] + "..."


def format_duration(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``; ``—`` for nothing measured."""
    if seconds <= 0:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _header(plan: SweepPlan, rows: Sequence[TableRow], paper_same: bool) -> list[str]:
    """The Markdown table's columns: the cell (when extra cells are shown), one per axis, the
    label fraction (when the spec has others than 100 %), then the results."""
    spec = plan.spec
    header = ["cell"] if any(row.variant.is_extra for row in rows) else []
    header += list(axis_labels(list(spec.axes)).values())
    header += (["labels"] if spec.label_fractions != (1.0,) else []) + ["top-1 (%)", "paper"]
    header += ["Δ"] if paper_same else []
    header += ["decoder params (M)", "MAE params (M)"] if spec.show_parameters else []
    return header + ["pre-train val loss", "MSE / interp.", "pre-train time", "fine-tune time/seed"]


def _row_cells(plan: SweepPlan, row: TableRow) -> dict[str, str]:
    """Every column's text for ``row`` (columns without a value are left out: ``—``)."""
    labels = axis_labels(list(plan.spec.axes))
    # the one non-extra row of an axis-free spec (e.g. Table 5) is the pre-trained model itself
    base = "grid" if plan.spec.axes else "pre-trained"
    cells = {"cell": row.variant.name if row.variant.is_extra else base}
    for key, label in labels.items():
        value = row.axis_value(key)
        cells[label] = "—" if value is None else value_text(value)
    cells["labels"] = f"{100 * row.label_fraction:g} %"
    cells["top-1 (%)"] = format_top1(row)
    if row.paper:
        cells["paper"] = f"{row.paper.top1:.1f}"
        if row.top1:
            cells["Δ"] = f"{row.mean - row.paper.top1:+.1f}"
    if row.parameters:
        cells["decoder params (M)"] = f"{row.parameters['decoder'] / 1e6:.3f}"
        cells["MAE params (M)"] = f"{row.parameters['total'] / 1e6:.3f}"
    if row.pretrain_loss is not None:
        cells["pre-train val loss"] = f"{row.pretrain_loss:.4g}"
    if row.interp_ratio is not None:
        cells["MSE / interp."] = f"{row.interp_ratio:.2f}"
    cells["pre-train time"] = format_duration(row.pretrain_seconds)
    cells["fine-tune time/seed"] = format_duration(row.finetune_seconds_mean or 0.0)
    return cells


def format_markdown_table(plan: SweepPlan, rows: Sequence[TableRow]) -> str:
    """The rows as a Markdown table (header names the paper's benchmark; ``Δ`` only when our
    benchmark is the paper's)."""
    theirs = paper_benchmark(plan)
    header = _header(plan, rows, paper_same=plan.spec.dataset.benchmark == theirs)
    titles = [f"paper {benchmark_label(theirs)} (%)" if c == "paper" else c for c in header]
    lines = ["| " + " | ".join(titles) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = _row_cells(plan, row)
        lines.append("| " + " | ".join(cells.get(c, "—") for c in header) + " |")
    return "\n".join(lines)


def _csv_record(plan: SweepPlan, row: TableRow) -> dict[str, Any]:
    params = row.parameters or {}
    return {
        "cell": row.variant.name,
        **{key: row.axis_value(key) for key in plan.spec.axes},
        "label_fraction": row.label_fraction,
        "top1_mean": row.mean,
        "top1_std": row.std,
        "seeds_done": len(row.top1),
        "seeds_total": len(row.seeds),
        "top1_per_seed": ";".join(f"{v:.4f}" for v in row.top1),
        "paper_top1": row.paper.top1 if row.paper else None,
        "paper_benchmark": row.paper.benchmark if row.paper else None,
        "decoder_params": params.get("decoder"),
        "total_params": params.get("total"),
        "pretrain_val_loss": row.pretrain_loss,
        "pretrain_interp_ratio": row.interp_ratio,
        "pretrain_seconds": row.pretrain_seconds or None,
        "finetune_seconds_mean": row.finetune_seconds_mean,
        "problems": " | ".join(row.problems),
    }


def results_csv(plan: SweepPlan, rows: Sequence[TableRow]) -> str:
    """Machine-readable table: one line per row, numbers unformatted (None: empty), reasons in full."""
    records = [_csv_record(plan, row) for row in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def sweep_markdown(
    plan: SweepPlan, rows: Sequence[TableRow], plot_link: str | None = None, heading: str = "#"
) -> str:
    """A sweep's table section: heading, what is compared with what, the table, the plot."""
    spec, paper = plan.spec, plan.spec.paper
    ours = benchmark_label(spec.dataset.benchmark)
    lines = [
        f"{heading} {spec.title or spec.name}",
        "",
        f"Dataset: {ours} (`{spec.dataset.root}`); seeds {list(spec.seeds)}; "
        "top-1 is the best validation accuracy of each fine-tuning run, as in the paper.",
    ]
    if paper.table:
        theirs = benchmark_label(paper_benchmark(plan))
        lines.append(
            f"Paper column: SkeletonMAE, {PAPER_TABLES[paper.table]}, on {theirs} ({PAPER_FIXED_SETTING})."
        )
        if theirs != ours:
            lines.append(
                f"Ours ran on {ours}, the paper's on {theirs}: compare the trends "
                "across rows, not the values."
            )
        if paper.equivalents:
            lines.append(f"Our settings map to the paper's as {paper.equivalents}.")
        if paper.table == "figure4":
            lines.append(f"{FIGURE4_NOTE}.")
    lines += ["", format_markdown_table(plan, rows), ""]
    if plot_link:
        lines += [f"![top-1 against {spec.plot.x}]({plot_link})", ""]
    return "\n".join(lines)


def write_sweep_tables(plan: SweepPlan, rows: Sequence[TableRow] | None = None) -> dict[str, Path]:
    """Write results.md and results.csv (and the plot) into the sweep's output root;
    ``rows``: :func:`collect_rows` of ``plan``, collected here when not given."""
    root = plan.output_root
    rows = collect_rows(plan) if rows is None else rows
    written: dict[str, Path] = {}
    if plan.spec.plot is not None:
        from skeletonmae.experiments.figures import plot_sweep_rows

        written["plot"] = root / f"{plan.spec.name}.png"
        if plot_sweep_rows(plan, rows, written["plot"]) is None:
            del written["plot"]
    plot_name = written["plot"].name if "plot" in written else None
    written["markdown"] = write_text_atomic(root / "results.md", sweep_markdown(plan, rows, plot_name))
    written["csv"] = write_text_atomic(root / "results.csv", results_csv(plan, rows))
    return written
