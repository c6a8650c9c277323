"""``build_report``: one Markdown file about sweep folders and single run folders.

* A sweep folder (holding ``sweep.yaml``): its table re-collected from the records, with the
  paper's numbers beside ours, the sweep's plot and links to each run's own ``curves.png``.
* A run folder (``config.yaml`` + ``metrics.csv``): its best metric and curves; for a fine-tuning
  run on one of the paper's benchmarks, the paper's SkeletonMAE number at that label fraction
  (Table 4 for all labels, Table 5 for 5 % / 10 %) beside ours.

Images are linked relative to the report, so the report folder can be moved with the runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from skeletonmae.atomic import write_text_atomic
from skeletonmae.data.store import read_dataset_meta
from skeletonmae.experiments.collect import collect_rows, listed_runs, sweep_markdown, write_sweep_tables
from skeletonmae.experiments.paper import (
    LABEL_FRACTION_KEY,
    PAPER_BENCHMARKS,
    PAPER_FIXED_SETTING,
    PAPER_TABLES,
    PaperNumber,
    benchmark_label,
    find_paper_number,
    paper_numbers,
)
from skeletonmae.experiments.sweep_dir import SPEC_FILE, read_sweep_plan


def _link(target: Path, report_dir: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), report_dir.resolve())).as_posix()


def sweep_section(root: Path, report_dir: Path) -> str:
    """The Markdown section of one sweep folder (tables and plot are refreshed first)."""
    plan = read_sweep_plan(root)
    rows = collect_rows(plan)
    written = write_sweep_tables(plan, rows)
    plot_link = _link(written["plot"], report_dir) if "plot" in written else None
    parts = [sweep_markdown(plan, rows, plot_link, heading="##")]
    parts.append(
        f"Files: [table (Markdown)]({_link(written['markdown'], report_dir)}), "
        f"[table (CSV)]({_link(written['csv'], report_dir)})."
    )
    own = [run for run in listed_runs(plan) if (run.run_dir / "curves.png").is_file()]
    if own:
        parts += ["", "<details><summary>Curves of each run</summary>", ""]
        parts += [f"- [{run.name}]({_link(run.run_dir / 'curves.png', report_dir)})" for run in own]
        parts += ["", "</details>"]
    return "\n".join(parts) + "\n"


def _run_stage(run_dir: Path) -> str:
    """``pretrain`` / ``finetune``: the command in config.yaml's first line
    (``# skeletonmae finetune --config ...``)."""
    first = (run_dir / "config.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    words = first.lstrip("# ").split()
    return words[1] if len(words) > 1 and words[0] == "skeletonmae" else "unknown"


def paper_number_for_run(stage: str, benchmark: str | None, label_fraction: float) -> PaperNumber | None:
    """The paper's SkeletonMAE number for a fine-tuning run on ``benchmark`` at that label
    fraction (Tables 4 and 5), or None."""
    if stage != "finetune" or benchmark not in PAPER_BENCHMARKS:
        return None
    table = "table4" if label_fraction == 1.0 else "table5"
    return find_paper_number(paper_numbers(table, benchmark=benchmark), {LABEL_FRACTION_KEY: label_fraction})


def _best(rows: Sequence[dict[str, float]], column: str, higher: bool) -> tuple[float | None, int | None]:
    points = [(r[column], int(r["epoch"])) for r in rows if column in r and not math.isnan(r[column])]
    if not points:
        return None, None
    value, epoch = (max if higher else min)(points, key=lambda p: p[0])
    return value, epoch


def _metric_lines(stage: str, rows: Sequence[dict], benchmark: str | None, fraction: float) -> list[str]:
    """The table line of a run's best metric beside the paper's (and the paper's setting)."""
    if stage == "pretrain":
        value, epoch = _best(rows, "val_loss", higher=False)
        if value is None:
            value, epoch = _best(rows, "train_loss", higher=False)
        ours = f"{value:.4g} (epoch {epoch})" if value is not None else "no epoch logged"
        return [f"| best reconstruction loss | {ours} | — (not reported) | — |"]
    value, epoch = _best(rows, "val_top1", higher=True)
    number = paper_number_for_run(stage, benchmark, fraction)
    ours = f"{100 * value:.1f} (epoch {epoch})" if value is not None else "no validation"
    if number is None:
        return [f"| best top-1 (%) | {ours} | — (no paper number for this dataset / labels) | — |"]
    delta = f"{100 * value - number.top1:+.1f}" if value is not None else "—"
    paper = f"{number.top1:.1f} ({PAPER_TABLES[number.table].split(':')[0]})"
    return [
        f"| best top-1 (%) | {ours} | {paper} | {delta} |",
        "",
        f"The paper's number was measured with: {PAPER_FIXED_SETTING}.",
    ]


def run_section(run_dir: Path, report_dir: Path) -> str:
    """The Markdown section of one pre-training or fine-tuning run folder."""
    from skeletonmae.training.run_config import load_run_config
    from skeletonmae.viz.curves import read_metrics_csv

    config = load_run_config(run_dir / "config.yaml")[0]
    data, model, mask = config.data, config.model, config.mask
    stage = _run_stage(run_dir)
    metrics_path = run_dir / "metrics.csv"
    rows = read_metrics_csv(metrics_path) if metrics_path.is_file() else []
    try:
        benchmark = read_dataset_meta(data.root).get("benchmark") if data.root else None
    except ValueError:  # a damaged meta.json: the dataset is unknown, the report is still written
        benchmark = None
    settings = (
        f"Settings: model {model.num_frames} frames x {model.num_joints} joints, decoder "
        f"{model.decoder_width} x {model.decoder_depth}; mask {mask.strategy} frames {mask.frame_ratio} "
        f"joints {mask.joint_ratio}; batch {data.batch_size}"
    )
    lines = [
        f"## {stage}: `{run_dir.name}`",
        "",
        f"Folder `{run_dir}`; dataset {benchmark_label(benchmark)} (`{data.root}`); "
        f"{len(rows)} of {config.training.epochs} epochs logged.",
        settings + (f"; labels {100 * data.label_fraction:g} %." if stage != "pretrain" else "."),
        "",
        "| metric | ours | paper | Δ |",
        "|---|---|---|---|",
        *_metric_lines(stage, rows, benchmark, data.label_fraction),
    ]
    curves = run_dir / "curves.png"
    if curves.is_file():
        lines += ["", f"![curves of {run_dir.name}]({_link(curves, report_dir)})"]
    return "\n".join(lines) + "\n"


def build_report(
    run_dirs: Sequence[str | Path], output: str | Path, title: str = "SkeletonMAE results"
) -> Path:
    """Write the report of ``run_dirs`` (sweep folders and/or run folders) to ``output``."""
    output = Path(output)
    report_dir = output.parent if str(output.parent) else Path(".")
    report_dir.mkdir(parents=True, exist_ok=True)
    sections = [f"# {title}", ""]
    for run_dir in map(Path, run_dirs):
        if (run_dir / SPEC_FILE).is_file() or (run_dir / "plan.json").is_file():
            sections.append(sweep_section(run_dir, report_dir))
        elif (run_dir / "config.yaml").is_file():
            sections.append(run_section(run_dir, report_dir))
        else:
            raise FileNotFoundError(
                f"{run_dir}: neither a sweep folder ({SPEC_FILE}) nor a run folder (config.yaml);"
                " pass the output_root of `skeletonmae sweep` or a pretrain / finetune run folder"
            )
    return write_text_atomic(output, "\n".join(sections))
