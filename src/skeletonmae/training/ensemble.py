"""Multi-stream ensembles: fuse the class scores of several classifiers of one dataset.

As STTFormer, CTR-GCN and InfoGCN do with their joint / bone / motion / bone-motion models, each
checkpoint reads the split through its own test transform, and a sample's fused score is
``sum_i w_i softmax_i / sum_i w_i``. Checkpoints that disagree on the classes, the layout or the
samples of the split are refused, naming both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from skeletonmae.distributed import DistributedContext
from skeletonmae.evaluation.metrics import ClassificationMetrics, ClassificationTally, fuse_scores
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.saved_run import CLASSIFIER_STAGES, LoadedRun, bind_run, load_run
from skeletonmae.training.data_setup import build_eval_loader
from skeletonmae.training.evaluate import metrics_summary, report_path, write_report


@dataclasses.dataclass(frozen=True)
class StreamScores:
    """One checkpoint's softmax scores ``(N, K)`` on the split, the labels ``(N,)`` and its stream."""

    checkpoint: Path
    stream: str
    probabilities: torch.Tensor
    labels: torch.Tensor


@dataclasses.dataclass(frozen=True)
class EnsembleEvaluation:
    """Each stream's metrics and the fusion's, on one split."""

    split: str
    streams: tuple[StreamScores, ...]
    weights: tuple[float, ...]
    stream_metrics: tuple[ClassificationMetrics, ...]
    fused: ClassificationMetrics
    class_names: tuple[str, ...]
    json_path: Path
    confusion_png: Path


def scores_metrics(probabilities: torch.Tensor, labels: torch.Tensor) -> ClassificationMetrics:
    """Top-1 / top-5 / per-class accuracy, confusion and mean negative log-likelihood of scores."""
    log_scores = probabilities.clamp_min(1e-12).log()  # (N, K): same ranking as the scores
    tally = ClassificationTally(probabilities.shape[1], probabilities.device)
    tally.update(log_scores, labels, F.nll_loss(log_scores, labels, reduction="sum"))
    return tally.compute()


@torch.no_grad()
def stream_scores(run: LoadedRun) -> StreamScores:
    """Softmax scores of a bound classifier run on its split, in the split's order (one process)."""
    config = run.config
    model = SkeletonClassifier(config.model)
    model.load_state_dict(run.payload["model"])
    model.eval()
    loader = build_eval_loader(config, run.arrays, DistributedContext())
    chunks, labels = [], []
    for inputs, batch_labels, _ in loader:
        chunks.append(torch.softmax(model(inputs).float(), dim=1))
        labels.append(batch_labels)
    return StreamScores(run.path, config.data.transform.stream, torch.cat(chunks), torch.cat(labels))


def check_members(runs: Sequence[LoadedRun]) -> None:
    """Every run must score the same samples of the same classes in the same layout."""
    first = runs[0]
    for other in runs[1:]:
        for what, mine, theirs in (
            ("classes", first.info.class_names, other.info.class_names),
            ("layout", first.info.layout, other.info.layout),
            ("test samples", first.arrays.names, other.arrays.names),
        ):
            if tuple(mine) != tuple(theirs):
                if what == "test samples":
                    mine, theirs = f"{len(mine)} samples", len(theirs)
                raise ValueError(
                    f"{first.path} and {other.path} disagree on their {what} ({mine} vs {theirs}); "
                    "an ensemble fuses models of one dataset and split: pass checkpoints trained on it "
                    "(or point both at the same data with --set data.root=...)"
                )


def run_ensemble_evaluate(
    checkpoints: Sequence[str | Path],
    *,
    weights: Sequence[float] | None = None,
    overrides: Sequence[str] = (),
    split: str | None = None,
    output_dir: str | Path | None = None,
) -> EnsembleEvaluation:
    """Evaluate each classifier checkpoint and their fusion on ``split`` (default: the first
    checkpoint's ``data.test_split``); writes ``eval_ensemble_<split>.json`` and
    ``confusion_ensemble_<split>.png`` to ``output_dir`` (default: the first checkpoint's folder)."""
    if len(checkpoints) < 2:
        raise ValueError("an ensemble needs at least two checkpoints")
    wrong = "has no classifier to fuse"
    runs = [load_run(path, overrides, stages=CLASSIFIER_STAGES, wrong_stage=wrong) for path in checkpoints]
    split = split or runs[0].config.data.test_split
    runs = [bind_run(run, split) for run in runs]
    check_members(runs)
    scores = tuple(stream_scores(run) for run in runs)
    fused = fuse_scores([s.probabilities for s in scores], weights)
    labels = scores[0].labels
    stream_metrics = tuple(scores_metrics(s.probabilities, labels) for s in scores)
    fused_metrics = scores_metrics(fused, labels)
    used = tuple(float(w) for w in (weights or [1.0] * len(scores)))
    json_path = report_path(runs[0], output_dir, "eval_ensemble_{}.json")
    png_path = report_path(runs[0], output_dir, "confusion_ensemble_{}.png")
    names = tuple(runs[0].info.class_names)
    report = {
        "split": split,
        "samples": fused_metrics.count,
        "streams": [
            {"checkpoint": str(s.checkpoint), "stream": s.stream, "weight": w, **metrics_summary(m, names)}
            for s, w, m in zip(scores, used, stream_metrics)
        ],
        "fusion": {**metrics_summary(fused_metrics, names), "confusion_matrix": fused_metrics.confusion},
        "class_names": list(names),
    }
    title = f"fusion of {len(scores)} / {split}: {100 * fused_metrics.top1:.1f} %"
    write_report(json_path, report, png_path, fused_metrics.confusion, names, title)
    return EnsembleEvaluation(split, scores, used, stream_metrics, fused_metrics, names, json_path, png_path)
