"""Hooks that let the shared pre-training stage (``skeletonmae.training.stages``) run CrosSCLR / AimCLR.

A run config with a ``contrastive:`` section (``skeletonmae pretrain --method crossclr|aimclr``)
pre-trains a :class:`ContrastiveModel` with :class:`ContrastivePretrainTask` in the same loop,
data pipeline and checkpoints as SkeletonMAE; fine-tuning reads the exported encoder with
:func:`skeletonmae.contrastive.step.pretrained_encoder_state`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.contrastive.step import build_contrastive_model
from skeletonmae.contrastive.task import ContrastivePretrainTask
from skeletonmae.data.layouts import SkeletonLayout, get_layout, layout_for_joint_count

if TYPE_CHECKING:
    from skeletonmae.training.run_config import RunConfig

logger = logging.getLogger(__name__)


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
