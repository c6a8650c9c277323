"""What each stage trains: masked reconstruction or a contrastive baseline (pre-train), or
classification (fine-tune, linear).

A pre-training task steps ``model(x, generator).loss`` for SkeletonMAE and the contrastive
baselines alike; they differ in validation only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from skeletonmae.contrastive.build import unwrap
from skeletonmae.distributed import DistributedContext
from skeletonmae.evaluation.loops import classify_loader, reconstruction_metrics, seeded_validation_loss
from skeletonmae.training.loop_types import StepOutput

VALIDATION_MASK_SEED = 20_230_401
VALIDATION_AUGMENTATION_SEED = 20_211_206


class PretrainTask:
    """Masked reconstruction; the best checkpoint has the lowest validation MSE.

    Validation also reports, on the same seeded masks, the masked-token MSE of the model
    (``val_masked_mse``) and of the two predictors that learn nothing: the static pose
    (``val_static_mse``) and linear interpolation in time (``val_interp_mse``), and the ratio
    ``val_interp_ratio`` = model / interpolation (below 1: the model beats interpolation)."""

    name = "pretrain"
    best_metric = "val_loss"
    train_metric = "train_loss"
    higher_is_better = False

    def step(
        self, model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> StepOutput:
        """inputs: (N, C, T, V, M); labels are ignored (self-supervised)."""
        return StepOutput(loss=model(inputs, generator=generator).loss)

    def validate(
        self, model: torch.nn.Module, loader: DataLoader, context: DistributedContext
    ) -> dict[str, float]:
        metrics = reconstruction_metrics(model, loader, context, VALIDATION_MASK_SEED)
        interp = metrics["interp"]
        return {
            "val_loss": metrics["loss"],
            "val_masked_mse": metrics["model"],
            "val_static_mse": metrics["static"],
            "val_interp_mse": interp,
            "val_interp_ratio": metrics["model"] / interp if interp > 0 else float("nan"),
        }


class ContrastivePretrainTask(PretrainTask):
    """CrosSCLR / AimCLR; the best checkpoint has the lowest validation loss.

    Validation loss: queue-free in-batch InfoNCE (``ContrastiveModel.validation_loss``) with
    augmentations drawn from a fixed seed, eval mode, no key-encoder or queue update. The training
    loss is not comparable across epochs (it depends on how many real keys the queue holds, and on
    whether mining is on); this one is."""

    def validate(
        self, model: torch.nn.Module, loader: DataLoader, context: DistributedContext
    ) -> dict[str, float]:
        module = unwrap(model)
        loss = seeded_validation_loss(
            module, loader, context, VALIDATION_AUGMENTATION_SEED, module.validation_loss
        )
        return {"val_loss": loss}


class ClassificationTask:
    """Cross-entropy with label smoothing; the best checkpoint has the highest val top-1."""

    best_metric = "val_top1"
    train_metric = "train_top1"
    higher_is_better = True

    def __init__(self, name: str, num_classes: int, label_smoothing: float) -> None:
        self.name = name
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def step(
        self, model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> StepOutput:
        """inputs: (N, C, T, V, M), labels: (N,) int64."""
        logits = model(inputs).float()  # (N, K)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        correct = (logits.detach().argmax(dim=1) == labels).sum()
        return StepOutput(loss=loss, correct=correct)

    def validate(
        self, model: torch.nn.Module, loader: DataLoader, context: DistributedContext
    ) -> dict[str, float]:
        metrics = classify_loader(model, loader, self.num_classes, context)
        return {"val_loss": metrics.loss, "val_top1": metrics.top1, "val_top5": metrics.top5}
