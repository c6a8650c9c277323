"""CrosSCLR / AimCLR as a pre-training method of the shared stage and epoch loop.

The loop is the one SkeletonMAE pre-trains with (same data, checkpoints, resume, schedule); only
the model, the step and the validation differ. The loop must tell the task the epoch
(``set_epoch``), which switches mining on at ``ContrastiveConfig.mining_start_epoch``.

Validation loss: queue-free in-batch InfoNCE (``ContrastiveModel.validation_loss``) on the
validation split, augmentations drawn from a fixed seed, eval mode, no key-encoder or queue update.
The training loss is not comparable across epochs (it depends on how many real keys the queue
holds, and on whether mining is on); this one is. Fine-tuning reads the exported encoder with
:func:`skeletonmae.contrastive.step.pretrained_encoder_state`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import torch
from torch.utils.data import DataLoader

from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.contrastive.step import build_contrastive_model, contrastive_step, unwrap
from skeletonmae.data.layouts import SkeletonLayout, get_layout, layout_for_joint_count
from skeletonmae.distributed import DistributedContext
from skeletonmae.evaluation.loops import seeded_validation_loss
from skeletonmae.training.engine import StepOutput
from skeletonmae.training.run_config import RunConfig

logger = logging.getLogger(__name__)

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
    train_metric = "train_loss"
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


def dataset_layout(name: str, num_joints: int) -> SkeletonLayout:
    """The layout a prepared split's ``meta.json`` names, or the standard one for its joint count."""
    layout = get_layout(name) if name else layout_for_joint_count(num_joints)
    if layout.num_joints != num_joints:
        raise ValueError(
            f"meta.json layout {name!r} has {layout.num_joints} joints, the data has {num_joints}; "
            "re-run skeletonmae prepare"
        )
    return layout


def build_contrastive_pretraining(
    config: RunConfig, layout_name: str, num_train_samples: int | None = None
) -> ContrastiveModel:
    """The contrastive model of a run config whose ``contrastive`` section is set.

    The data must arrive as joint coordinates (``data.transform.stream: joint``): the methods
    augment joints and derive their motion / bone views themselves.
    """
    contrastive = config.contrastive
    if contrastive is None:
        raise ValueError(
            "build_contrastive_pretraining: the run config has no contrastive section; "
            "pass --method crossclr|aimclr"
        )
    if config.model.in_channels != 3:
        raise ValueError(
            f"model.in_channels={config.model.in_channels}: the contrastive baselines augment 3D joints "
            "(shear, rotation); pre-train 2D keypoints with SkeletonMAE (no --method)"
        )
    if config.data.transform.stream != "joint":
        raise ValueError(
            f"data.transform.stream={config.data.transform.stream!r}: contrastive pre-training "
            "reads joint coordinates and builds its own views; set data.transform.stream=joint "
            "(AimCLR's stream is contrastive.export_view)"
        )
    if num_train_samples is not None and contrastive.queue_size > num_train_samples:
        logger.warning(
            "contrastive.queue_size=%d exceeds the %d training samples: the queue will hold several "
            "keys of the same sample (false negatives); consider a smaller queue",
            contrastive.queue_size,
            num_train_samples,
        )
    layout = dataset_layout(layout_name, config.model.num_joints)
    return build_contrastive_model(config.model, contrastive, layout)


def with_task_epoch(
    set_data_epoch: Callable[[int], None], task: ContrastivePretrainTask
) -> Callable[[int], None]:
    """The loop's per-epoch hook, extended to tell the task the epoch (mining switch)."""

    def set_epoch(epoch: int) -> None:
        set_data_epoch(epoch)
        task.set_epoch(epoch)

    return set_epoch
