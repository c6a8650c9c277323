"""``skeletonmae demo``: pre-train, fine-tune with few labels and from scratch, compare, draw."""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletonmae.demo import DemoConfig, run_demo, summary


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = DemoConfig()
    parser = subparsers.add_parser(
        "demo",
        help="the whole recipe at CPU scale in a few minutes",
        description="Prepare data (real NW-UCLA if given or found, else generated NTU-format "
        ".skeleton files), pre-train SkeletonMAE, fine-tune with few labels from the "
        "pre-trained encoder and from scratch, print both accuracies and draw a "
        "reconstruction.",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=defaults.output_dir,
        metavar="DIR",
        help=f"where data and runs go (default {defaults.output_dir})",
    )
    parser.add_argument(
        "--nw-ucla",
        type=Path,
        metavar="DIR",
        help="NW-UCLA all_sqe folder (default: $SKELETONMAE_NW_UCLA, "
        "data/nw_ucla/all_sqe or ../shared/data/nw_ucla/all_sqe if present)",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="use generated NTU-format data even if NW-UCLA is found"
    )
    parser.add_argument(
        "--synthetic-samples",
        type=int,
        default=defaults.synthetic_samples,
        help="how many .skeleton files to generate when no NW-UCLA is used",
    )
    parser.add_argument("--pretrain-epochs", type=int, default=defaults.pretrain_epochs)
    parser.add_argument("--finetune-epochs", type=int, default=defaults.finetune_epochs)
    parser.add_argument("--label-fraction", type=float, default=defaults.label_fraction)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    config = DemoConfig(
        output_dir=args.output_dir,
        nw_ucla=args.nw_ucla,
        synthetic=args.synthetic,
        synthetic_samples=args.synthetic_samples,
        pretrain_epochs=args.pretrain_epochs,
        finetune_epochs=args.finetune_epochs,
        label_fraction=args.label_fraction,
        seed=args.seed,
    )
    result = run_demo(config)
    print(summary(config, result))
    return 0
