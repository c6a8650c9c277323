"""``skeletonmae report RUN_DIR...``: a Markdown report of sweeps and runs, the paper beside ours.

    skeletonmae report runs/sweeps/table1-nw-ucla runs/sweeps/table5-nw-ucla -o report.md
    skeletonmae report runs/finetune-ntu60-xsub

A RUN_DIR is a sweep's output_root (its table, plot and curves) or a single pretrain / finetune
run folder (its best metric and curves). Where the paper has a number for the same setting, it is
shown beside ours (see docs/experiments.md).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["register", "report_command"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    text = "Markdown report of sweep folders and run folders, the paper's numbers beside ours"
    parser = subparsers.add_parser("report", help=text, description=text)
    parser.add_argument(
        "run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="a sweep output_root or a pretrain / finetune run folder",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("report.md"),
        help="Markdown file to write (default: report.md); images are linked relative to it",
    )
    parser.add_argument("--title", default="SkeletonMAE results", help="the report's heading")
    parser.set_defaults(func=report_command)


def report_command(namespace: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae report``; 2 when a folder is not a sweep or a run."""
    from skeletonmae.experiments.report import build_report

    try:
        path = build_report(namespace.run_dirs, namespace.output, title=namespace.title)
    except (ValueError, FileNotFoundError) as error:
        logger.debug("report failed", exc_info=error)
        logger.error("report failed: %s", error)
        return 2
    print(f"report: {path}")
    return 0
