"""The contrastive pre-training stage as a task of the shared epoch loop (``skeletonmae.training.engine``).

The loop is the one SkeletonMAE pre-trains with (same data, checkpoints, resume, schedule); only the
step and the validation differ. The loop must tell the task the epoch (``set_epoch``), which
switches mining on at ``ContrastiveConfig.mining_start_epoch``.

Validation loss: queue-free in-batch InfoNCE (``ContrastiveModel.validation_loss``) on the
validation split, augmentations drawn from a fixed seed, eval mode, no key-encoder or queue update.
The training loss is not comparable across epochs (it depends on how many real keys the queue
holds, and on whether mining is on); this one is.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.utils.data import DataLoader

from skeletonmae.contrastive.step import contrastive_step, unwrap
from skeletonmae.evaluation.loops import seeded_validation_loss
from skeletonmae.training.distributed import DistributedContext
from skeletonmae.training.engine import StepOutput

VALIDATION_AUGMENTATION_SEED = 20_211_206


def contrastive_validation_loss(
    model: torch.nn.Module,
    loader: Iterable,
    context: DistributedContext,
    seed: int = VALIDATION_AUGMENTATION_SEED,
) -> float:
    """Sample-weighted mean in-batch InfoNCE over ``(x, labels, indices)`` batches (no side effects)."""
    module = unwrap(model)
    return seeded_validation_loss(module, loader, context, seed, module.validation_loss)


class ContrastivePretrainTask:
    """CrosSCLR / AimCLR pre-training; the best checkpoint has the lowest validation loss."""

    name = "pretrain"
    best_metric = "val_loss"
    higher_is_better = False

    def __init__(self) -> None:
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The (0-based) epoch about to run; the loop calls this at every epoch start."""
        self.epoch = int(epoch)

    def step(
        self, model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> StepOutput:
        """inputs: (N, C, T, V, M); labels are ignored (self-supervised)."""
        return StepOutput(loss=contrastive_step(model, inputs, generator, self.epoch))

    def validate(
        self, model: torch.nn.Module, loader: DataLoader, context: DistributedContext
    ) -> dict[str, float]:
        return {"val_loss": contrastive_validation_loss(model, loader, context)}
