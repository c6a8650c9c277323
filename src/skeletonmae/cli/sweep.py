"""``skeletonmae sweep SPEC.yaml``: run a grid of pre-train -> fine-tune runs, collect the table;
``skeletonmae sweep --report DIR...``: one Markdown report of finished sweep folders.

Every run is an ordinary run folder under the spec's ``output_root``; finished runs are skipped,
interrupted ones resumed, so the same command continues a stopped sweep. The table is written to
``output_root/results.md`` and ``results.csv`` (docs/experiments.md has examples).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from skeletonmae.cli.arguments import USER_ERRORS, add_overrides_argument, log_error
from skeletonmae.experiments.plan import plan_sweep, resolve_spec
from skeletonmae.experiments.report import build_report
from skeletonmae.experiments.runner import SweepRunner, run_sweep
from skeletonmae.experiments.spec import load_sweep_spec

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command."""
    text = "run a grid of pre-train -> fine-tune runs and collect its table, or report on sweep folders"
    parser = subparsers.add_parser("sweep", help=text, description=text)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("spec", type=Path, nargs="?", metavar="SPEC.yaml", help="sweep spec (configs/sweeps/)")
    what.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="instead: one Markdown report of these sweep folders",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="with --report: the Markdown file to write (default: report.md; images linked relative to it)",
    )
    add_overrides_argument(parser, "override a plain spec key, e.g. output_root=runs/x or seeds=[1,2,3]")
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="run part K (from 0) of N, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run again the runs that failed before")
    parser.add_argument("--dry-run", action="store_true", help="list the planned runs and their state")
    parser.set_defaults(func=sweep_command)


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``0 <= K < N`` (Slurm's ``$SLURM_ARRAY_TASK_ID`` counts
    from the array's first index, so start arrays at 0: ``--array=0-3`` with N = 4)."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 0/4 (part K of N, K from 0)") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: K must be in 0..N-1 and N at least 1, e.g. 0/4 ... 3/4")
    return index, count


def _dry_run(spec, shard, retry_failed: bool) -> int:
    """List the planned runs with what the runner would do with each (or why the sweep stops)."""
    plan = plan_sweep(resolve_spec(spec), shard)
    spec = plan.spec
    runner = SweepRunner(plan, retry_failed=retry_failed)
    cells, pretrains = plan.selected_cells, plan.selected_pretrains
    other_shards = len(plan.cells) - len(cells)
    print(
        f"sweep {spec.name}: {len(cells)} cells"
        + (f" in shard {shard[0]}/{shard[1]} ({other_shards} in the other shards)" if shard else "")
        + f", {len(pretrains)} pre-training runs, dataset {spec.dataset.root} "
        f"({spec.dataset.benchmark or 'benchmark unknown'}), output {spec.output_root}"
    )
    for run in [*pretrains, *(cell.finetune for cell in cells)]:
        state = runner.decide(run).describe()
        chain = f" (a snapshot of {run.snapshot_of.name})" if run.snapshot_of else ""
        print(f"  {run.stage:<9}{run.name:<60}{run.epochs:>5} epochs  {state}{chain}")
    return 0


def _report(namespace: argparse.Namespace) -> int:
    """Write the report of ``--report``'s sweep folders; options of running a spec are refused."""
    options = {"--set": namespace.overrides, "--shard": namespace.shard, "--dry-run": namespace.dry_run}
    options["--retry-failed"] = namespace.retry_failed
    if any(options.values()):
        given = ", ".join(flag for flag, value in options.items() if value)
        raise ValueError(f"{given}: options of running a spec; --report only re-collects sweep folders")
    print(f"report: {build_report(namespace.report, namespace.output or Path('report.md'))}")
    return 0


def sweep_command(namespace: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae sweep``; returns 0 when every cell has a result (or the report
    is written), 1 when some failed (their reasons are in the table), 2 for a spec or setup error."""
    try:
        if namespace.report:
            return _report(namespace)
        if namespace.output is not None:
            raise ValueError("-o/--output names the file of --report; a sweep writes into its output_root")
        spec = load_sweep_spec(namespace.spec, namespace.overrides)
        shard = parse_shard(namespace.shard) if namespace.shard else None
        if namespace.dry_run:
            return _dry_run(spec, shard, namespace.retry_failed)
        outcome = run_sweep(spec, spec_path=namespace.spec, retry_failed=namespace.retry_failed, shard=shard)
    except (*USER_ERRORS, KeyError) as error:
        return log_error("sweep", error)
    failed = outcome.failed()
    print(
        f"table: {outcome.tables['markdown']}  csv: {outcome.tables['csv']}"
        + (f"  plot: {outcome.tables['plot']}" if "plot" in outcome.tables else "")
    )
    if shard is not None:
        logger.info("shard %d/%d done; the last shard to finish writes the complete table", *shard)
    if failed:
        logger.warning(
            "%d run(s) failed; their reasons are in the table (re-run with --retry-failed to try them again)",
            len(failed),
        )
        return 1
    return 0
