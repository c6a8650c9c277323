"""Inference loops over a loader: classification metrics and masked-reconstruction loss.

Both run on a (possibly sharded) loader and sum over ranks, so every rank gets the metrics of the
whole split. Batches are ``(x (N, C, T, V, M), labels (N,), indices (N,))``.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F

from skeletonmae.evaluation.metrics import ClassificationMetrics, ClassificationTally
from skeletonmae.training.distributed import DistributedContext, all_reduce_sum


def inference_module(model: torch.nn.Module) -> torch.nn.Module:
    """Strip DDP (its forward would expect a matching backward); keep a compiled module."""
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        return model.module
    return model


@torch.no_grad()
def classify_loader(
    model: torch.nn.Module,
    loader: Iterable,
    num_classes: int,
    context: DistributedContext,
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
def seeded_validation_loss(
    module: torch.nn.Module, loader: Iterable, context: DistributedContext, seed: int,
    batch_loss: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
) -> float:
    """Sample-weighted mean of ``batch_loss(inputs (N, C, T, V, M), generator)`` over the loader,
    in eval mode, with random draws (masks, augmentations) from a generator seeded by ``seed`` so
    every validation sees the same draws and epochs are comparable."""
    was_training = module.training
    module.eval()
    generator = torch.Generator(device=context.device).manual_seed(seed + 7919 * context.rank)
    totals = torch.zeros(2, dtype=torch.float64, device=context.device)  # loss sum, samples
    for inputs, _, _ in loader:
        inputs = inputs.to(context.device, non_blocking=True)  # (N, C, T, V, M)
        totals[0] += batch_loss(inputs, generator).double() * inputs.shape[0]
        totals[1] += inputs.shape[0]
    module.train(was_training)
    loss_sum, count = all_reduce_sum(totals, context).tolist()
    return loss_sum / max(count, 1.0)


def reconstruction_loss(
    model: torch.nn.Module, loader: Iterable, context: DistributedContext, seed: int
) -> float:
    """Mean MAE validation loss with seeded masks (see :func:`seeded_validation_loss`)."""
    return reconstruction_metrics(model, loader, context, seed)["loss"]


RECONSTRUCTION_KEYS = ("loss", "model", "static", "interp")


@torch.no_grad()
def reconstruction_metrics(
    model: torch.nn.Module, loader: Iterable, context: DistributedContext, seed: int
) -> dict[str, float]:
    """Seeded-mask validation of a :class:`~skeletonmae.models.mae.SkeletonMAE`: the loss and the
    masked-token MSE (target space) of the model and of the static-pose and interpolation
    predictors on exactly the masks the model saw; sample-weighted means over the split."""
    module = inference_module(model)
    was_training = module.training
    module.eval()
    generator = torch.Generator(device=context.device).manual_seed(seed + 7919 * context.rank)
    totals = torch.zeros(len(RECONSTRUCTION_KEYS) + 1, dtype=torch.float64, device=context.device)
    for inputs, _, _ in loader:
        inputs = inputs.to(context.device, non_blocking=True)  # (N, C, T, V, M)
        output = module(inputs, generator=generator, with_baselines=True)
        values = [output.loss] + [output.errors[key] for key in RECONSTRUCTION_KEYS[1:]]
        totals[:-1] += torch.stack([v.double() for v in values]) * inputs.shape[0]
        totals[-1] += inputs.shape[0]
    module.train(was_training)
    sums = all_reduce_sum(totals, context).tolist()
    count = max(sums[-1], 1.0)
    return {key: value / count for key, value in zip(RECONSTRUCTION_KEYS, sums[:-1])}
