"""``skeletonmae predict CHECKPOINT INPUT... [--top-k 5] [--json]``: label skeleton sequences.

INPUT is a raw NTU ``.skeleton`` file, a NW-UCLA ``.json``, a generic ``.npz`` archive or a folder
of them (searched recursively). Each input is preprocessed like the training data and by the
checkpoint's test transform. Inputs that cannot be used are reported one per line on stderr (or
under ``failures`` with ``--json``) and the others are still predicted.

Exit codes: 0 all inputs predicted; 1 some input failed; 2 the checkpoint could not be used.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the library (and torch) is imported when the command runs
    from skeletonmae.inference.predictor import Prediction, PredictionReport

logger = logging.getLogger(__name__)

__all__ = ["register", "run_predict", "format_predictions"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="top-k actions of skeleton files with a trained checkpoint",
        description="Print the top-k actions (class names and probabilities) of raw NTU "
        ".skeleton files, NW-UCLA .json files, generic .npz archives or folders of "
        "them, using a finetune / linear checkpoint.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of a finetune / linear run")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="file or folder")
    parser.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="classes to list per input (default 5)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--min-frames",
        type=int,
        default=2,
        metavar="T",
        help="reject sequences with fewer valid frames (default 2)",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument(
        "--ensemble",
        nargs="+",
        default=[],
        metavar="CKPT",
        help="more classifiers of the same dataset (e.g. other streams) whose softmax scores are "
        "averaged with CHECKPOINT's",
    )
    parser.add_argument(
        "--weights", nargs="+", type=float, metavar="W", help="one weight per checkpoint (default: equal)"
    )
    parser.set_defaults(func=run_predict)


def format_predictions(predictions: tuple[Prediction, ...]) -> str:
    """Human-readable block per input: its name, then ``rank. class name  probability``."""
    lines = []
    for prediction in predictions:
        lines.append(f"{prediction.name}  ({prediction.source})")
        width = max(len(score.name) for score in prediction.top)
        for rank, score in enumerate(prediction.top, start=1):
            lines.append(f"  {rank}. {score.name:<{width}}  {score.probability:.4f}")
    return "\n".join(lines)


def _report_json(checkpoint: str, names_source: str, report: PredictionReport) -> str:
    return json.dumps(
        {
            "checkpoint": checkpoint,
            "class_names_source": names_source,
            "predictions": [prediction.to_dict() for prediction in report.predictions],
            "failures": [failure.to_dict() for failure in report.failures],
        },
        indent=2,
    )


def run_predict(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae predict``; returns the exit code."""
    from skeletonmae.checkpoints import CheckpointError
    from skeletonmae.inference.predictor import load

    try:
        checkpoints = [args.checkpoint, *args.ensemble] if args.ensemble or args.weights else args.checkpoint
        predictor = load(
            checkpoints,
            device=args.device,
            min_frames=args.min_frames,
            batch_size=args.batch_size,
            weights=args.weights,
        )
        top_k = min(args.top_k, len(predictor.class_names))
        # bad inputs are collected in the report; what raises here is the checkpoint or an option
        report = predictor.predict_report(args.inputs, top_k=top_k)
    except (CheckpointError, ValueError) as error:
        print(f"skeletonmae predict: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(_report_json(args.checkpoint, predictor.model.names_source, report))
    elif report.predictions:
        print(format_predictions(report.predictions))
    for failure in report.failures:
        print(f"skeletonmae predict: FAILED {failure.error}", file=sys.stderr)
    if report.failures:
        print(
            f"skeletonmae predict: {len(report.failures)} of "
            f"{len(report.failures) + len(report.predictions)} input(s) failed",
            file=sys.stderr,
        )
        return 1
    return 0
