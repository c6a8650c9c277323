"""``run_evaluate`` scores a fine-tuned / linear checkpoint on a split, ``run_reconstruction_eval``
a SkeletonMAE pre-training's reconstruction.

Writes, next to the checkpoint unless told otherwise, ``eval_<split>.json`` (top-1, top-5,
per-class accuracy, confusion matrix, loss; for a pre-training the masked-token MSE beside the
static-pose and interpolation predictors on validation's seeded masks) and ``confusion_<split>.png``.
The model is rebuilt from the checkpoint's config; overrides (``data.root=...``) may move the data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from skeletonmae.atomic import write_json_atomic
from skeletonmae.distributed import DistributedContext, barrier, distributed_session, wrap_model
from skeletonmae.evaluation.loops import classify_loader
from skeletonmae.evaluation.metrics import ClassificationMetrics
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.saved_run import CLASSIFIER_STAGES, LoadedRun, bind_run, load_run
from skeletonmae.training.data_setup import build_eval_loader
from skeletonmae.training.tasks import PretrainTask

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one checkpoint on one split, and the files written."""

    checkpoint: Path
    split: str
    metrics: ClassificationMetrics
    class_names: tuple[str, ...]
    json_path: Path
    confusion_png: Path


@dataclasses.dataclass(frozen=True)
class ReconstructionEvaluation:
    """A pre-training's reconstruction metrics on one split (``val_*`` keys, as in metrics.csv)."""

    checkpoint: Path
    split: str
    samples: int
    metrics: dict[str, float]
    json_path: Path


@contextlib.contextmanager
def _bound_run(
    checkpoint: str | Path, overrides: Sequence[str], split: str | None, stages: Collection[str], wrong: str
) -> Iterator[tuple[LoadedRun, DistributedContext]]:
    """The saved run bound to ``split`` (None: its ``data.test_split``) in a distributed session;
    every rank leaves once rank 0 has written its files."""
    run = load_run(checkpoint, overrides, stages=stages, wrong_stage=wrong)
    with distributed_session(run.config.training.device) as context:
        yield bind_run(run, split or ""), context
        barrier(context)


def report_path(run: LoadedRun, output_dir: str | Path | None, template: str) -> Path:
    """``template`` (e.g. ``"eval_{}.json"``) named after the bound run's split, in ``output_dir``
    (default: the checkpoint's folder)."""
    folder = Path(output_dir) if output_dir is not None else run.path.parent
    return folder / template.format(run.split.replace("/", "_"))


def run_evaluate(
    checkpoint: str | Path,
    *,
    overrides: Sequence[str] = (),
    split: str | None = None,
    output_dir: str | Path | None = None,
) -> EvaluationResult:
    """Evaluate a classifier checkpoint (``best.pt`` / ``last.pt`` of finetune or linear)."""
    wrong = "has no classifier; evaluate the best.pt of a finetune or linear run"
    with _bound_run(checkpoint, overrides, split, CLASSIFIER_STAGES, wrong) as (run, context):
        config, names = run.config, run.info.class_names
        model = SkeletonClassifier(config.model)
        model.load_state_dict(run.payload["model"])
        model = wrap_model(model, context, sync_batchnorm=False)
        loader = build_eval_loader(config, run.arrays, context)
        metrics = classify_loader(model, loader, config.model.num_classes, context)
        json_path = report_path(run, output_dir, "eval_{}.json")
        png_path = report_path(run, output_dir, "confusion_{}.png")
        if context.is_main:
            report = {
                "checkpoint": str(run.path),
                "stage": run.payload.get("stage"),
                "epoch": run.payload.get("epoch"),
                "split": run.split,
                "samples": metrics.count,
                **metrics_summary(metrics, names),
                "loss": metrics.loss,
                "class_names": list(names),
                "confusion_matrix": metrics.confusion,
            }
            title = f"{run.path.parent.name} / {run.split}: top-1 {100 * metrics.top1:.1f} %"
            write_report(json_path, report, png_path, metrics.confusion, names, title)
            scores = f"top-1 {100 * metrics.top1:.2f} %, top-5 {100 * metrics.top5:.2f} %"
            logger.info("%s on %s (%d samples): %s", run.path, run.split, metrics.count, scores)
    return EvaluationResult(run.path, run.split, metrics, names, json_path, png_path)


def run_reconstruction_eval(
    checkpoint: str | Path,
    *,
    overrides: Sequence[str] = (),
    split: str | None = None,
    output_dir: str | Path | None = None,
) -> ReconstructionEvaluation:
    """Masked reconstruction of a SkeletonMAE pre-training (``best.pt``, a weights file or a
    released name) on a split, with the predictors that learn nothing beside it; comparable across
    checkpoints because the masks are seeded."""
    wrong = "has no decoder; pass a SkeletonMAE pre-training checkpoint"
    with _bound_run(checkpoint, overrides, split, ("pretrain",), wrong) as (run, context):
        if run.config.contrastive is not None:
            raise ValueError(f"{run.path}: a contrastive pre-training has no decoder to evaluate")
        model = SkeletonMAE(run.config.model, run.config.mask)
        model.load_state_dict(run.payload["model"])
        loader = build_eval_loader(run.config, run.arrays, context)
        metrics = PretrainTask().validate(wrap_model(model, context, sync_batchnorm=False), loader, context)
        json_path = report_path(run, output_dir, "eval_{}.json")
        if context.is_main:
            report = {"checkpoint": str(run.path), "split": run.split, "samples": len(run.arrays)}
            write_json_atomic(json_path, {**report, **metrics})
    return ReconstructionEvaluation(run.path, run.split, len(run.arrays), metrics, json_path)


def metrics_summary(metrics: ClassificationMetrics, class_names: Sequence[str]) -> dict:
    """Top-1, top-5, mean class and per-class accuracy, as a report holds them."""
    return {
        "top1": metrics.top1,
        "top5": metrics.top5,
        "mean_class_accuracy": metrics.mean_class_accuracy,
        "per_class_accuracy": dict(zip(class_names, metrics.per_class)),
    }


def write_report(json_path: Path, report: dict, png_path: Path, confusion, class_names, title: str) -> None:
    """``report`` as JSON and the confusion matrix as a PNG (skipped, with a warning, without matplotlib)."""
    write_json_atomic(json_path, report)
    try:
        from skeletonmae.viz.confusion import plot_confusion_matrix
    except ImportError as error:
        logger.warning("confusion matrix PNG not drawn (%s)", error)
        return
    plot_confusion_matrix(confusion, png_path, class_names, title=title)
