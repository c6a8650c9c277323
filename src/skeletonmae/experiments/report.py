"""``skeletonmae sweep --report``: one Markdown file about several sweep folders, each table re-collected
from the records, with its plot and each run's ``curves.png`` linked relative to the report.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from skeletonmae.atomic import write_text_atomic
from skeletonmae.experiments.collect import collect_rows, sweep_markdown, write_sweep_tables
from skeletonmae.experiments.sweep_dir import read_sweep_plan


def _link(target: Path, report_dir: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), report_dir.resolve())).as_posix()


def sweep_section(root: Path, report_dir: Path) -> str:
    """The Markdown section of one sweep folder (its tables and plot are refreshed first)."""
    plan = read_sweep_plan(root)
    rows = collect_rows(plan)
    written = write_sweep_tables(plan, rows)
    plot_link = _link(written["plot"], report_dir) if "plot" in written else None
    parts = [
        sweep_markdown(plan, rows, plot_link, heading="##"),
        f"Files: [table (Markdown)]({_link(written['markdown'], report_dir)}), "
        f"[table (CSV)]({_link(written['csv'], report_dir)}).",
    ]
    runs = [*plan.pretrains, *(cell.finetune for cell in plan.cells)]
    own = [run for run in runs if (run.run_dir / "curves.png").is_file()]
    if own:
        parts += ["", "<details><summary>Curves of each run</summary>", ""]
        parts += [f"- [{run.name}]({_link(run.run_dir / 'curves.png', report_dir)})" for run in own]
        parts += ["", "</details>"]
    return "\n".join(parts) + "\n"


def build_report(sweep_dirs: Sequence[str | Path], output: str | Path) -> Path:
    """Write the report of the sweep folders ``sweep_dirs`` (each an ``output_root``) to ``output``."""
    sections = [sweep_section(Path(root), Path(output).parent) for root in sweep_dirs]
    return write_text_atomic(output, "\n".join(["# SkeletonMAE results", "", *sections]))
