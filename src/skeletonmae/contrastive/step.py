"""What a pre-training loop needs to run the contrastive baselines: build, step, export.

``contrastive_step(model, batch, generator, epoch) -> loss`` is the whole per-batch contract; the
loop back-propagates the returned loss and steps its optimiser over ``trainable_parameters(model)``
(the key branches are momentum copies and take no gradient). ``export_encoder_state(model)`` gives
the weights that fine-tuning, linear and few-label evaluation load through
``skeletonmae.models.load_pretrained_encoder``, the same path as SkeletonMAE's encoder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from skeletonmae.contrastive.config import ContrastiveConfig
from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.distributed import unwrap_model
from skeletonmae.models.config import ModelConfig


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


def unwrap(model: nn.Module) -> ContrastiveModel:
    """The :class:`ContrastiveModel` inside DDP / ``torch.compile`` wrappers (or the model itself)."""
    inner = unwrap_model(model)
    if not isinstance(inner, ContrastiveModel):
        raise TypeError(
            f"expected a ContrastiveModel (optionally wrapped in DDP or torch.compile), "
            f"got {type(inner).__name__}"
        )
    return inner


def batch_tensor(batch: torch.Tensor | Sequence[Any]) -> torch.Tensor:
    """The ``(N, C, T, V, M)`` tensor of a batch given as a tensor or as ``(x, labels, indices, ...)``."""
    x = batch if isinstance(batch, torch.Tensor) else batch[0]
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"expected a batch tensor (N, C, T, V, M) or a tuple starting with one, got {type(x).__name__}"
        )
    return x


def contrastive_step(
    model: nn.Module, batch: torch.Tensor | Sequence[Any], generator: torch.Generator | None, epoch: int
) -> torch.Tensor:
    """The loss of one batch at ``epoch`` (0-based; mining starts at ``config.mining_start_epoch``).

    ``model`` may be wrapped in DDP: the forward goes through the wrapper so gradients are synchronised.
    The key encoders take their momentum step and the queue receives the batch's keys here. The
    loss is not read back here (no device sync); the loop checks it is finite at its log cadence.
    """
    unwrap(model).set_epoch(epoch)
    return model(batch_tensor(batch), generator).loss


def trainable_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """Parameters the optimiser should update: the query branches' (not the momentum key branches')."""
    return (p for p in unwrap(model).query.parameters() if p.requires_grad)


def export_encoder_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The exported query encoder's weights (keys of ``SkeletonClassifier.encoder.state_dict()``)."""
    return unwrap(model).encoder_state_dict()


QUERY_PREFIX = "query."
ENCODER_INFIX = ".encoder."


def is_contrastive_state(model_state: Mapping[str, torch.Tensor]) -> bool:
    """True for a :class:`ContrastiveModel` state dict (optionally under DDP's ``module.``)."""
    return any(key.removeprefix("module.").startswith(QUERY_PREFIX) for key in model_state)


def pretrained_encoder_state(payload: Mapping[str, Any]) -> Mapping[str, torch.Tensor]:
    """The encoder weights fine-tuning should load from a pre-training checkpoint ``payload``.

    A contrastive checkpoint gives its exported view's query encoder (``contrastive.export_view``
    of the saved config), keyed like ``SkeletonClassifier.encoder``; any other checkpoint's
    ``model`` state is returned unchanged (SkeletonMAE's, checked by ``load_pretrained_encoder``).
    """
    model_state = payload["model"]
    if not is_contrastive_state(model_state):
        return model_state
    state = {key.removeprefix("module."): value for key, value in model_state.items()}
    views = sorted({key.split(".")[1] for key in state if key.startswith(QUERY_PREFIX)})
    section = (payload.get("config") or {}).get("contrastive") or {}
    view = section.get("export_view") or (views[0] if len(views) == 1 else None)
    if view not in views:
        raise ValueError(
            f"contrastive checkpoint: cannot tell which view to export (views {views}, "
            f"config contrastive.export_view={view!r}); re-save it with contrastive.export_view set"
        )
    prefix = f"{QUERY_PREFIX}{view}{ENCODER_INFIX}"
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
