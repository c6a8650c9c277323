"""``skeletonmae pretrain | finetune | linear | evaluate``: the stages from the command line.

A training command reads ``--config FILE.yaml`` plus ``--set key=value`` overrides; its other flags
are overrides too. Launch under ``torchrun --nproc_per_node=N`` for DDP.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.cli.arguments import USER_ERRORS, add_overrides_argument, log_error
from skeletonmae.config import Override
from skeletonmae.run_config import load_run_config
from skeletonmae.training import stages
from skeletonmae.training.ensemble import run_ensemble_evaluate
from skeletonmae.training.evaluate import run_evaluate, run_reconstruction_eval

logger = logging.getLogger(__name__)

PRETRAIN_METHODS = ("skeletonmae", "crossclr", "aimclr")

STAGE_RUNNERS = {
    "pretrain": stages.run_pretrain,
    "finetune": stages.run_finetune,
    "linear": stages.run_linear,
}
STAGE_HELP = {
    "pretrain": "masked-autoencoder pre-training (no labels); best checkpoint by val loss",
    "finetune": "fine-tune a classifier from a pre-trained encoder or from scratch",
    "linear": "linear evaluation: frozen pre-trained encoder, train the head only",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the pretrain, finetune, linear and evaluate commands."""
    for stage, text in STAGE_HELP.items():
        parser = subparsers.add_parser(stage, help=text, description=text)
        parser.add_argument("--config", metavar="YAML", help="run config (see configs/)")
        add_overrides_argument(parser, "override a config value, e.g. optim.lr=0.001 (repeatable)")
        parser.add_argument("--output-dir", metavar="DIR", help="run folder (sets output_dir)")
        parser.add_argument("--resume", action="store_true", help="continue the run in output_dir (last.pt)")
        if stage == "pretrain":
            parser.add_argument(
                "--method",
                choices=PRETRAIN_METHODS,
                help="skeletonmae (default) or a contrastive baseline (docs/contrastive.md)",
            )
        else:
            parser.add_argument(
                "--pretrained", metavar="CKPT", help="pre-training checkpoint (sets finetune.pretrained)"
            )
            parser.add_argument(
                "--label-fraction",
                type=float,
                metavar="F",
                help="class-balanced fraction of the labels, e.g. 0.1",
            )
        parser.set_defaults(func=_stage_command(stage))
    parser = subparsers.add_parser(
        "evaluate",
        help="top-1/top-5/per-class accuracy and confusion matrix of a checkpoint",
        description="Evaluate a finetune/linear checkpoint (writes eval_<split>.json and "
        "confusion_<split>.png next to it, or in --output-dir), or the reconstruction of a pre-training "
        "(masked-token MSE beside the static-pose and interpolation predictors).",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--checkpoint", metavar="CKPT", help="best.pt or last.pt of a run, a weights file or a released name"
    )
    which.add_argument(
        "--ensemble",
        nargs="+",
        metavar="CKPT",
        help="fuse the softmax scores of classifiers of one dataset (e.g. streams); each and the fusion",
    )
    parser.add_argument(
        "--weights",
        nargs="+",
        type=float,
        metavar="W",
        help="one weight per --ensemble checkpoint (default: equal)",
    )
    parser.add_argument("--split", help="split folder to score (default: data.test_split)")
    parser.add_argument("--output-dir", metavar="DIR", help="where to write the report")
    add_overrides_argument(parser, "override the checkpoint's config, e.g. data.root=/data/ntu60-xsub")
    parser.set_defaults(func=evaluate_command)


def _rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def quiet_non_main_ranks() -> None:
    """Under torchrun, only rank 0 logs below WARNING (the library logs the same facts on every
    rank; progress bars and files are already rank 0's)."""
    if _rank() > 0:
        logging.getLogger("skeletonmae").setLevel(logging.WARNING)


def stage_overrides(namespace: argparse.Namespace) -> list[Override]:
    """The ``--set`` texts plus the convenience flags as typed ``(key, value)`` overrides (a
    fraction stays a float and a path a path, with no round trip through text)."""
    overrides: list[Override] = list(namespace.overrides)
    if namespace.output_dir is not None:
        overrides.append(("output_dir", str(namespace.output_dir)))
    method = getattr(namespace, "method", None)
    if method == "skeletonmae":
        overrides.append(("contrastive", None))
    elif method is not None:
        overrides.append(("contrastive.method", method))
    if getattr(namespace, "pretrained", None) is not None:
        overrides.append(("finetune.pretrained", str(namespace.pretrained)))
    if getattr(namespace, "label_fraction", None) is not None:
        overrides.append(("data.label_fraction", namespace.label_fraction))
    return overrides


def _stage_command(stage: str) -> Callable[[argparse.Namespace], int]:
    def command(namespace: argparse.Namespace) -> int:
        quiet_non_main_ranks()
        try:
            config, pinned = load_run_config(namespace.config, stage_overrides(namespace))
            result = STAGE_RUNNERS[stage](config, resume=namespace.resume, pinned_model_fields=pinned)
        except USER_ERRORS as error:
            return log_error(stage, error)
        best = "n/a" if result.best_metric is None else f"{result.best_metric:.4f}"
        where = f"(epoch {result.best_epoch}); checkpoints in {result.run_dir}"
        logger.info("%s done: best %s = %s %s", stage, result.best_metric_name, best, where)
        return 0

    return command


def evaluate_command(namespace: argparse.Namespace) -> int:
    quiet_non_main_ranks()
    options = {"overrides": namespace.overrides, "split": namespace.split, "output_dir": namespace.output_dir}
    if namespace.weights and not namespace.ensemble:
        return log_error("evaluate", ValueError("--weights goes with --ensemble CKPT CKPT ..."))
    try:
        if namespace.ensemble:
            result = run_ensemble_evaluate(namespace.ensemble, weights=namespace.weights, **options)
            show = _print_ensemble
        elif load_checkpoint(namespace.checkpoint).get("stage") == "pretrain":
            result, show = run_reconstruction_eval(namespace.checkpoint, **options), _print_reconstruction
        else:
            result, show = run_evaluate(namespace.checkpoint, **options), _print_evaluation
    except USER_ERRORS as error:
        return log_error("evaluate", error)
    if _rank() == 0:
        show(result)
    return 0


def _print_evaluation(result) -> None:
    metrics = result.metrics
    print(
        f"{result.checkpoint} on {result.split} ({metrics.count} samples): "
        f"top-1 {100 * metrics.top1:.2f} %  top-5 {100 * metrics.top5:.2f} %  "
        f"mean class {100 * metrics.mean_class_accuracy:.2f} %"
    )
    print(f"report: {result.json_path}  confusion matrix: {result.confusion_png}")


def _print_ensemble(result) -> None:
    rows = [
        (f"{scores.checkpoint} ({scores.stream}, weight {weight:g})", metrics)
        for scores, weight, metrics in zip(result.streams, result.weights, result.stream_metrics)
    ]
    rows.append((f"fusion of {len(result.streams)}", result.fused))
    width = max(len(name) for name, _ in rows)
    print(f"{result.split} ({result.fused.count} samples)")
    print(f"  {'model':<{width}}  {'top-1':>7}  {'top-5':>7}  {'mean class':>10}")
    for name, m in rows:
        accuracies = f"{100 * m.top1:>7.2f}  {100 * m.top5:>7.2f}  {100 * m.mean_class_accuracy:>10.2f}"
        print(f"  {name:<{width}}  {accuracies}")
    print(f"report: {result.json_path}  confusion matrix of the fusion: {result.confusion_png}")


def _print_reconstruction(result) -> None:
    m = result.metrics
    print(
        f"{result.checkpoint} on {result.split} ({result.samples} samples): masked-token MSE "
        f"{m['val_masked_mse']:.4f}, static pose {m['val_static_mse']:.4f}, interpolation "
        f"{m['val_interp_mse']:.4f} (model / interpolation {m['val_interp_ratio']:.2f})"
    )
    print(f"report: {result.json_path}")
