"""Inference loops over a loader: classification metrics and masked-reconstruction loss.

Both run on a (possibly sharded) loader and sum over ranks, so every rank gets the metrics of the
whole split. Batches are ``(x (N, C, T, V, M), labels (N,), indices (N,))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

from skeletonmae.distributed import DistributedContext, all_reduce_sum
from skeletonmae.evaluation.metrics import ClassificationMetrics, ClassificationTally


def inference_module(model: torch.nn.Module) -> torch.nn.Module:
    """Strip DDP (its forward would expect a matching backward); keep a compiled module."""
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        return model.module
    return model


@torch.no_grad()
def classify_loader(
    model: torch.nn.Module, loader: Iterable, num_classes: int, context: DistributedContext
) -> ClassificationMetrics:
    """Top-1 / top-5 / per-class accuracy, confusion matrix and mean cross-entropy (no smoothing)."""
    module = inference_module(model)
    was_training = module.training
    module.eval()
    tally = ClassificationTally(num_classes, context.device)
    for inputs, labels, _ in loader:
        inputs = inputs.to(context.device, non_blocking=True)  # (N, C, T, V, M)
        labels = labels.to(context.device, non_blocking=True)  # (N,)
        logits = module(inputs).float()  # (N, K)
        tally.update(logits, labels, F.cross_entropy(logits, labels, reduction="sum"))
    module.train(was_training)
    return tally.compute(context)


@torch.no_grad()
def seeded_validation_metrics(
    module: torch.nn.Module,
    loader: Iterable,
    context: DistributedContext,
    seed: int,
    keys: Sequence[str],
    batch_metrics: Callable[[torch.Tensor, torch.Generator], dict[str, torch.Tensor]],
) -> dict[str, float]:
    """Sample-weighted means of the scalars ``keys`` of ``batch_metrics(inputs (N, C, T, V, M),
    generator)`` over the loader, in eval mode, with random draws (masks, augmentations) from a
    generator seeded by ``seed`` so every validation sees the same draws and epochs compare.
    A rank with an empty shard still joins the sum (its metrics count zero samples)."""
    was_training = module.training
    module.eval()
    generator = torch.Generator(device=context.device).manual_seed(seed + 7919 * context.rank)
    totals = torch.zeros(len(keys) + 1, dtype=torch.float64, device=context.device)
    for inputs, _, _ in loader:
        inputs = inputs.to(context.device, non_blocking=True)  # (N, C, T, V, M)
        metrics = batch_metrics(inputs, generator)
        totals[:-1] += torch.stack([metrics[key].double() for key in keys]) * inputs.shape[0]
        totals[-1] += inputs.shape[0]  # the sample count
    module.train(was_training)
    sums = all_reduce_sum(totals, context).tolist()
    return {key: value / max(sums[-1], 1.0) for key, value in zip(keys, sums[:-1])}


RECONSTRUCTION_KEYS = ("loss", "model", "static", "interp")


def reconstruction_metrics(
    model: torch.nn.Module, loader: Iterable, context: DistributedContext, seed: int
) -> dict[str, float]:
    """Seeded-mask validation of a :class:`~skeletonmae.models.mae.SkeletonMAE`: the loss and the
    masked-token MSE (target space) of the model (``model``) and of the static-pose (``static``)
    and interpolation (``interp``) predictors on exactly the masks the model saw."""
    module = inference_module(model)

    def batch_metrics(inputs: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        output = module(inputs, generator=generator, with_baselines=True)
        return {"loss": output.loss, **output.errors}

    return seeded_validation_metrics(module, loader, context, seed, RECONSTRUCTION_KEYS, batch_metrics)
