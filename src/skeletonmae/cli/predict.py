"""``skeletonmae predict CHECKPOINT INPUT...``: top-k actions of skeleton files (docs/inference.md).

Exit codes: 0 all inputs predicted; 1 some input failed (the others are still predicted, the
failures listed on stderr); 2 the checkpoint or an option could not be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from skeletonmae.checkpoints import CheckpointError
from skeletonmae.cli.arguments import add_device_arguments, print_error
from skeletonmae.inference.predictor import Prediction, load


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="top-k actions of skeleton files with a trained checkpoint",
        description="Print the top-k actions (class names and probabilities) of raw NTU .skeleton files, "
        "NW-UCLA .json files, generic .npz archives or folders of them with a finetune / linear checkpoint.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of a finetune / linear run")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="file or folder")
    parser.add_argument("--top-k", type=int, default=5, metavar="K", help="classes per input (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--min-frames", type=int, default=2, metavar="T", help="reject shorter sequences (default 2)"
    )
    add_device_arguments(parser, batch_size=16)
    parser.add_argument(
        "--ensemble",
        nargs="+",
        default=[],
        metavar="CKPT",
        help="classifiers (streams) to fuse with CHECKPOINT",
    )
    parser.add_argument(
        "--weights", nargs="+", type=float, metavar="W", help="one weight per checkpoint (default: equal)"
    )
    parser.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae predict``; returns the exit code."""
    checkpoints = [args.checkpoint, *args.ensemble] if args.ensemble or args.weights else args.checkpoint
    try:
        predictor = load(checkpoints, args.device, args.min_frames, args.batch_size, args.weights)
        # bad inputs are collected in the report; what raises here is the checkpoint or an option
        report = predictor.predict_report(args.inputs, top_k=min(args.top_k, len(predictor.class_names)))
    except (CheckpointError, ValueError) as error:
        return print_error("predict", error)
    if args.json:
        summary = {
            "checkpoint": args.checkpoint,
            "class_names_source": predictor.model.names_source,
            "predictions": [prediction.to_dict() for prediction in report.predictions],
            "failures": [failure.to_dict() for failure in report.failures],
        }
        print(json.dumps(summary, indent=2))
    elif report.predictions:
        print(format_predictions(report.predictions))
    for failure in report.failures:
        print(f"skeletonmae predict: FAILED {failure.error}", file=sys.stderr)
    if report.failures:
        total = len(report.failures) + len(report.predictions)
        print(f"skeletonmae predict: {len(report.failures)} of {total} input(s) failed", file=sys.stderr)
        return 1
    return 0


def format_predictions(predictions: Sequence[Prediction]) -> str:
    """A block per input: its name, then ``rank. class name  probability``."""
    lines = []
    for prediction in predictions:
        lines.append(f"{prediction.name}  ({prediction.source})")
        width = max(len(score.name) for score in prediction.top)
        for rank, score in enumerate(prediction.top, start=1):
            lines.append(f"  {rank}. {score.name:<{width}}  {score.probability:.4f}")
    return "\n".join(lines)
