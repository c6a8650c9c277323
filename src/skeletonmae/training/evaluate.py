"""``run_evaluate``: score a fine-tuned / linear checkpoint on a split; ``run_reconstruction_eval``:
score a SkeletonMAE pre-training's reconstruction on a split.

Writes, next to the checkpoint unless told otherwise, ``eval_<split>.json`` (top-1, top-5,
per-class accuracy, confusion matrix, loss) and ``confusion_<split>.png``; for a pre-training,
``eval_<split>.json`` holds the masked-token MSE beside the static-pose and interpolation predictors
on the same seeded masks as validation. The model is rebuilt
from the config stored in the checkpoint; overrides (e.g. ``data.root=...``) may point it at
another copy of the data, but the model fields must still match the weights.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from skeletonmae.atomic import write_json_atomic
from skeletonmae.distributed import barrier, distributed_session, wrap_model
from skeletonmae.evaluation.loops import classify_loader
from skeletonmae.evaluation.metrics import ClassificationMetrics
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.saved_run import bind_run, load_run
from skeletonmae.training.data_setup import build_eval_loader
from skeletonmae.training.tasks import PretrainTask

logger = logging.getLogger(__name__)

CLASSIFIER_STAGES = ("finetune", "linear")
DEFAULT_EVAL_BATCH = 32


@dataclasses.dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one checkpoint on one split, and the files written."""

    checkpoint: Path
    split: str
    metrics: ClassificationMetrics
    class_names: tuple[str, ...]
    json_path: Path
    confusion_png: Path


def run_evaluate(
    checkpoint: str | Path,
    *,
    overrides: Sequence[str] = (),
    split: str | None = None,
    output_dir: str | Path | None = None,
) -> EvaluationResult:
    """Evaluate a classifier checkpoint (``best.pt`` / ``last.pt`` of finetune or linear)."""
    run = load_run(
        checkpoint,
        overrides,
        stages=CLASSIFIER_STAGES,
        wrong_stage="has no classifier; evaluate the best.pt of a finetune or linear run",
    )
    checkpoint, payload = run.path, run.payload
    out = Path(output_dir) if output_dir is not None else checkpoint.parent
    with distributed_session(run.config.training.device) as context:
        run = bind_run(run, split or "")
        config, arrays, info, split = run.config, run.arrays, run.info, run.split
        model = SkeletonClassifier(config.model)
        model.load_state_dict(payload["model"])
        model = wrap_model(model, context, sync_batchnorm=False)
        batch = config.data.eval_batch_size or DEFAULT_EVAL_BATCH
        loader = build_eval_loader(config, arrays, context, batch)
        metrics = classify_loader(model, loader, config.model.num_classes, context)
        json_path, png_path = out / f"eval_{split}.json", out / f"confusion_{split}.png"
        if context.is_main:
            _write_report(json_path, png_path, checkpoint, payload, split, metrics, info.class_names)
            logger.info(
                "%s on %s (%d samples): top-1 %.2f %%, top-5 %.2f %%",
                checkpoint,
                split,
                metrics.count,
                100 * metrics.top1,
                100 * metrics.top5,
            )
        barrier(context)
    return EvaluationResult(checkpoint, split, metrics, info.class_names, json_path, png_path)


def _write_report(
    json_path: Path,
    png_path: Path,
    checkpoint: Path,
    payload: dict,
    split: str,
    metrics: ClassificationMetrics,
    class_names: Sequence[str],
) -> None:
    write_json_atomic(
        json_path,
        {
            "checkpoint": str(checkpoint),
            "stage": payload.get("stage"),
            "epoch": payload.get("epoch"),
            "split": split,
            "samples": metrics.count,
            "top1": metrics.top1,
            "top5": metrics.top5,
            "mean_class_accuracy": metrics.mean_class_accuracy,
            "loss": metrics.loss,
            "per_class_accuracy": dict(zip(class_names, metrics.per_class)),
            "class_names": list(class_names),
            "confusion_matrix": metrics.confusion,
        },
    )
    try:
        from skeletonmae.viz.confusion import plot_confusion_matrix
    except ImportError as error:
        logger.warning("confusion matrix PNG not drawn (%s)", error)
        return
    plot_confusion_matrix(
        metrics.confusion,
        png_path,
        class_names,
        title=f"{checkpoint.parent.name} / {split}: top-1 {100 * metrics.top1:.1f} %",
    )


@dataclasses.dataclass(frozen=True)
class ReconstructionEvaluation:
    """A pre-training's reconstruction metrics on one split (``val_*`` keys, as in metrics.csv)."""

    checkpoint: Path
    split: str
    samples: int
    metrics: dict[str, float]
    json_path: Path


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
    run = load_run(
        checkpoint,
        overrides,
        stages=("pretrain",),
        wrong_stage="has no decoder; pass a SkeletonMAE pre-training checkpoint",
    )
    if run.config.contrastive is not None:
        raise ValueError(f"{run.path}: a contrastive pre-training has no decoder to evaluate")
    out = Path(output_dir) if output_dir is not None else run.path.parent
    with distributed_session(run.config.training.device) as context:
        run = bind_run(run, split or "")
        model = SkeletonMAE(run.config.model, run.config.mask)
        model.load_state_dict(run.payload["model"])
        loader = build_eval_loader(
            run.config, run.arrays, context, run.config.data.eval_batch_size or DEFAULT_EVAL_BATCH
        )
        metrics = PretrainTask().validate(wrap_model(model, context, sync_batchnorm=False), loader, context)
        json_path = out / f"eval_{run.split.replace('/', '_')}.json"
        if context.is_main:
            write_json_atomic(
                json_path,
                {"checkpoint": str(run.path), "split": run.split, "samples": len(run.arrays), **metrics},
            )
        barrier(context)
    return ReconstructionEvaluation(run.path, run.split, len(run.arrays), metrics, json_path)
