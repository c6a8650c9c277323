"""What each stage trains: masked reconstruction or a contrastive baseline (pre-train, both
stepping ``model(x, generator).loss``; they differ in validation only), or classification."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Generator, Tensor, nn
from torch.utils.data import DataLoader

from skeletonmae.contrastive.build import unwrap
from skeletonmae.distributed import DistributedContext
from skeletonmae.evaluation.loops import classify_loader, reconstruction_metrics, seeded_validation_metrics
from skeletonmae.training.loop_types import Metrics, StepOutput

VALIDATION_MASK_SEED = 20_230_401
VALIDATION_AUGMENTATION_SEED = 20_211_206


class PretrainTask:
    """Masked reconstruction; the best checkpoint has the lowest validation MSE. Validation also
    reports, on the same seeded masks, the masked-token MSE of the model (``val_masked_mse``), the
    static pose (``val_static_mse``), interpolation in time (``val_interp_mse``) and
    ``val_interp_ratio`` = model / interpolation (below 1: the model beats interpolation)."""

    name = "pretrain"
    best_metric = "val_loss"
    train_metric = "train_loss"
    higher_is_better = False

    def step(self, model: nn.Module, inputs: Tensor, labels: Tensor, generator: Generator) -> StepOutput:
        """inputs: (N, C, T, V, M); labels are ignored (self-supervised)."""
        return StepOutput(loss=model(inputs, generator=generator).loss)

    def validate(self, model: nn.Module, loader: DataLoader, context: DistributedContext) -> Metrics:
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
    """CrosSCLR / AimCLR; the best checkpoint has the lowest validation loss: queue-free in-batch
    InfoNCE (``ContrastiveModel.validation_loss``) on seeded augmentations, in eval mode. Unlike the
    training loss (it depends on the queue's real keys and on mining) it compares across epochs."""

    def validate(self, model: nn.Module, loader: DataLoader, context: DistributedContext) -> Metrics:
        module, seed = unwrap(model), VALIDATION_AUGMENTATION_SEED

        def batch_loss(inputs: Tensor, generator: Generator) -> dict[str, Tensor]:
            return {"loss": module.validation_loss(inputs, generator)}

        metrics = seeded_validation_metrics(module, loader, context, seed, ("loss",), batch_loss)
        return {"val_loss": metrics["loss"]}


class ClassificationTask:
    """Cross-entropy with label smoothing; the best checkpoint has the highest val top-1."""

    best_metric = "val_top1"
    train_metric = "train_top1"
    higher_is_better = True

    def __init__(self, name: str, num_classes: int, label_smoothing: float) -> None:
        self.name = name
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def step(self, model: nn.Module, inputs: Tensor, labels: Tensor, generator: Generator) -> StepOutput:
        """inputs: (N, C, T, V, M), labels: (N,) int64."""
        logits = model(inputs).float()  # (N, K)
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        correct = (logits.detach().argmax(dim=1) == labels).sum()
        return StepOutput(loss=loss, correct=correct)

    def validate(self, model: nn.Module, loader: DataLoader, context: DistributedContext) -> Metrics:
        metrics = classify_loader(model, loader, self.num_classes, context)
        return {"val_loss": metrics.loss, "val_top1": metrics.top1, "val_top5": metrics.top5}
