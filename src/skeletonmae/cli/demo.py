"""``skeletonmae demo``: released pre-trained weights against scratch with few labels, and a picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletonmae.demo import DemoConfig, run_demo, summary


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = DemoConfig()
    parser = subparsers.add_parser(
        "demo",
        help="what pre-training buys with few labels, in about 10 minutes on a CPU",
        description="Prepare data (real NW-UCLA if given or found, else generated NW-UCLA-format files), "
        "fine-tune the released pre-trained SkeletonMAE and a scratch model on the same few labels for "
        "three label subsets, print both with the paired gain, and draw a reconstruction by the decoder.",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=defaults.output_dir,
        metavar="DIR",
        help="where data and runs go (default %(default)s)",
    )
    parser.add_argument(
        "--nw-ucla",
        type=Path,
        metavar="DIR",
        help="NW-UCLA all_sqe folder (default: $SKELETONMAE_NW_UCLA, "
        "data/nw_ucla/all_sqe or ../shared/data/nw_ucla/all_sqe if present)",
    )
    parser.add_argument("--synthetic", action="store_true", help="generated data even if NW-UCLA is found")
    parser.add_argument(
        "--synthetic-samples",
        type=int,
        default=defaults.synthetic_samples,
        help="how many files to generate when no NW-UCLA is used (default %(default)s)",
    )
    parser.add_argument(
        "--weights",
        default=defaults.weights,
        metavar="NAME|CKPT",
        help="a released model's name or a pre-training checkpoint (default %(default)s)",
    )
    parser.add_argument("--finetune-epochs", type=int, default=defaults.finetune_epochs)
    parser.add_argument("--label-fraction", type=float, default=defaults.label_fraction)
    parser.add_argument(
        "--label-seeds",
        type=int,
        nargs="+",
        default=list(defaults.label_seeds),
        metavar="SEED",
        help="one label subset (and training seed) each (default %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=defaults.workers, help="fine-tunings at a time (%(default)s)"
    )
    parser.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    config = DemoConfig(
        output_dir=args.output_dir,
        nw_ucla=args.nw_ucla,
        synthetic=args.synthetic,
        synthetic_samples=args.synthetic_samples,
        weights=args.weights,
        finetune_epochs=args.finetune_epochs,
        label_fraction=args.label_fraction,
        label_seeds=tuple(args.label_seeds),
        workers=args.workers,
    )
    result = run_demo(config)
    print(summary(config, result))
    return 0
