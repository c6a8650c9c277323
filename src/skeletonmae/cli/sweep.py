"""``skeletonmae sweep SPEC.yaml``: run a grid of pre-train -> fine-tune runs, collect the table.

    skeletonmae sweep configs/sweeps/table1_nw_ucla.yaml
    skeletonmae sweep configs/sweeps/table5_nw_ucla.yaml --set output_root=runs/t5 --set seeds=[1,2]
    skeletonmae sweep configs/sweeps/table1_nw_ucla.yaml --only mask.strategy=random
    skeletonmae sweep configs/sweeps/table1_nw_ucla.yaml --dry-run      # list runs and their state
    skeletonmae sweep SPEC --shard 0/2 & skeletonmae sweep SPEC --shard 1/2 & wait   # two processes
    skeletonmae sweep SPEC --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT  # sbatch --array=0-7

Every run is an ordinary run folder under the spec's ``output_root``; finished runs are skipped,
interrupted ones resumed, so the same command continues a stopped sweep. The table is written to
``output_root/results.md`` and ``results.csv`` (see docs/experiments.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from skeletonmae.cli.arguments import add_overrides_argument

logger = logging.getLogger(__name__)

__all__ = ["register", "sweep_command"]

# The user's to fix: reported as one line (traceback with -v), exit code 2.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, KeyError, RuntimeError)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command."""
    text = "run a grid of pre-train -> fine-tune runs and collect the table (Markdown + CSV)"
    parser = subparsers.add_parser("sweep", help=text, description=text)
    parser.add_argument("spec", type=Path, metavar="SPEC.yaml", help="sweep spec (configs/sweeps/)")
    add_overrides_argument(
        parser,
        "override a plain spec key, e.g. output_root=runs/x, "
        "dataset.root=data/nw-ucla, seeds=[1,2,3] (repeatable)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run only the cells with this setting, e.g. mask.strategy=random "
        "(repeatable; extra cells must set the key to match)",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="run only part K (from 0) of N of the cells, split by pre-training so that no run is "
        "in two parts: one process or cluster array task per part, e.g. "
        "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="run again the runs that failed before (default: keep their reason)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the planned runs and their state; train nothing"
    )
    parser.set_defaults(func=sweep_command)


def _dry_run(spec, shard, retry_failed: bool) -> int:
    """List the planned runs with what the runner would do with each (or why the sweep stops)."""
    from skeletonmae.experiments.runner import SweepRunner, plan_to_run

    plan = plan_to_run(spec, shard)
    spec = plan.spec
    runner = SweepRunner(plan, retry_failed=retry_failed)
    cells, pretrains = plan.selected_cells, plan.selected_pretrains
    outside = sum(not cell.selected for cell in plan.cells)
    other_shards = sum(cell.selected and not cell.in_shard for cell in plan.cells)
    print(
        f"sweep {spec.name}: {len(cells)} cells"
        + (f" in shard {shard[0]}/{shard[1]} ({other_shards} in the other shards)" if shard else "")
        + (f" ({outside} more outside --only)" if outside else "")
        + f", {len(pretrains)} pre-training runs, dataset {spec.dataset.root} "
        f"({spec.dataset.benchmark or 'benchmark unknown'}), output {plan.output_root}"
    )
    for run in [*pretrains, *(cell.finetune for cell in cells)]:
        state = runner.decide(run).describe()
        chain = f" (a snapshot of {run.snapshot_of.name})" if run.snapshot_of else ""
        print(f"  {run.stage:<9}{run.name:<60}{run.epochs:>5} epochs  {state}{chain}")
    return 0


def sweep_command(namespace: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae sweep``; returns 0 when every cell has a result, 1 when some
    failed (their reasons are in the table), 2 for a spec or setup error."""
    from skeletonmae.config import parse_override
    from skeletonmae.experiments.plan import parse_shard
    from skeletonmae.experiments.runner import run_sweep
    from skeletonmae.experiments.spec import load_sweep_spec

    try:
        spec = load_sweep_spec(namespace.spec, namespace.overrides)
        if namespace.only:
            spec = dataclasses.replace(
                spec, only={**spec.only, **dict(parse_override(item) for item in namespace.only)}
            )
        shard = parse_shard(namespace.shard) if namespace.shard else None
        if namespace.dry_run:
            return _dry_run(spec, shard, namespace.retry_failed)
        outcome = run_sweep(spec, spec_path=namespace.spec, retry_failed=namespace.retry_failed, shard=shard)
    except USER_ERRORS as error:
        logger.debug("sweep failed", exc_info=error)
        logger.error("sweep failed: %s", error)
        return 2
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
