"""Building a contrastive model for a dataset, and reading its encoder back: the weights that
``export_encoder_state(model)`` and ``pretrained_encoder_state(checkpoint)`` give load through
``skeletonmae.models.load_pretrained_encoder``, the same path as SkeletonMAE's encoder."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.data.layouts import SkeletonLayout, get_layout, layout_for_joint_count
from skeletonmae.distributed import unwrap_model
from skeletonmae.run_config import ContrastiveConfig, ModelConfig

logger = logging.getLogger(__name__)


def build_contrastive_model(
    model_config: ModelConfig,
    config: ContrastiveConfig,
    layout: Any,
    generator: torch.Generator | None = None,
) -> ContrastiveModel:
    """A :class:`ContrastiveModel` for a ``skeletonmae.data.layouts.SkeletonLayout`` (uses its
    ``num_joints``, ``left_right`` pairs and ``parents``)."""
    if layout.num_joints != model_config.num_joints:
        raise ValueError(
            f"layout {getattr(layout, 'name', layout)!r} has {layout.num_joints} joints but the "
            f"model config says num_joints={model_config.num_joints}; use the dataset's layout"
        )
    return ContrastiveModel(model_config, config, layout.left_right, layout.parents, generator)


def dataset_layout(name: str, num_joints: int) -> SkeletonLayout:
    """The layout a prepared split's ``meta.json`` names, or the standard one for its joint count."""
    layout = get_layout(name) if name else layout_for_joint_count(num_joints)
    if layout.num_joints != num_joints:
        raise ValueError(
            f"meta.json layout {name!r} has {layout.num_joints} joints, the data has {num_joints}; "
            "re-run skeletonmae prepare"
        )
    return layout


def build_for_dataset(
    model_config: ModelConfig, config: ContrastiveConfig, layout_name: str, stream: str, num_samples: int
) -> ContrastiveModel:
    """The contrastive model that pre-trains on a prepared dataset of layout ``layout_name`` whose
    transform gives the ``stream`` and whose training split holds ``num_samples`` clips.

    The data must arrive as 3D joint coordinates (``data.transform.stream: joint``): the methods
    augment joints and derive their motion / bone views themselves.
    """
    if model_config.in_channels != 3:
        raise ValueError(
            f"model.in_channels={model_config.in_channels}: the contrastive baselines augment 3D joints "
            "(shear, rotation); pre-train 2D keypoints with SkeletonMAE (no --method)"
        )
    if stream != "joint":
        raise ValueError(
            f"data.transform.stream={stream!r}: contrastive pre-training reads joint coordinates and "
            "builds its own views; set data.transform.stream=joint (AimCLR's stream is "
            "contrastive.export_view)"
        )
    if config.queue_size > num_samples:
        logger.warning(
            "contrastive.queue_size=%d exceeds the %d training samples: the queue will hold several "
            "keys of the same sample (false negatives); consider a smaller queue",
            config.queue_size,
            num_samples,
        )
    return build_contrastive_model(model_config, config, dataset_layout(layout_name, model_config.num_joints))


def unwrap(model: nn.Module) -> ContrastiveModel:
    """The :class:`ContrastiveModel` inside DDP / ``torch.compile`` wrappers (or the model itself)."""
    inner = unwrap_model(model)
    if not isinstance(inner, ContrastiveModel):
        raise TypeError(
            f"expected a ContrastiveModel (optionally wrapped in DDP or torch.compile), "
            f"got {type(inner).__name__}"
        )
    return inner


def export_encoder_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The exported query encoder's weights (keys of ``SkeletonClassifier.encoder.state_dict()``)."""
    return {k: v.detach().clone() for k, v in unwrap(model).encoder.state_dict().items()}


QUERY_PREFIX = "query."
ENCODER_INFIX = ".encoder."


def pretrained_encoder_state(payload: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
    """The encoder weights fine-tuning should load from a pre-training checkpoint ``payload``.

    A contrastive checkpoint gives its exported view's query encoder (``contrastive.export_view``
    of the saved config), keyed like ``SkeletonClassifier.encoder``; any other checkpoint's
    ``model`` state is returned unchanged (SkeletonMAE's, checked by ``load_pretrained_encoder``).
    """
    state = {key.removeprefix("module."): value for key, value in payload["model"].items()}
    views = sorted({key.split(".")[1] for key in state if key.startswith(QUERY_PREFIX)})
    if not views:  # not a ContrastiveModel's state
        return payload["model"]
    section = (payload.get("config") or {}).get("contrastive") or {}
    view = section.get("export_view") or (views[0] if len(views) == 1 else None)
    if view not in views:
        raise ValueError(
            f"contrastive checkpoint: cannot tell which view to export (views {views}, "
            f"config contrastive.export_view={view!r}); re-save it with contrastive.export_view set"
        )
    prefix = f"{QUERY_PREFIX}{view}{ENCODER_INFIX}"
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
