"""Pre-training methods of the ``pretrain`` stage, looked up by name instead of branched on.

A method says how to build its model from a run config (and the dataset's layout name) and which
task the shared epoch loop steps, with the loop's per-epoch hook. Built in: ``skeletonmae``
(masked reconstruction, no ``contrastive:`` section) and the contrastive baselines ``crossclr`` and
``aimclr`` (``contrastive.method``) on the same encoder. :func:`register_pretrain_method` adds
another; its name is then what :func:`pretrain_method_name` must return for a run config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from torch import nn

from skeletonmae.models.factory import build_mae
from skeletonmae.training.contrastive_task import (
    ContrastivePretrainTask,
    build_contrastive_pretraining,
    with_task_epoch,
)
from skeletonmae.training.loop_types import Task
from skeletonmae.training.run_config import RunConfig
from skeletonmae.training.tasks import PretrainTask

__all__ = ["PretrainMethod", "pretrain_method", "pretrain_method_name", "register_pretrain_method"]

EpochHook = Callable[[int], None]


@dataclasses.dataclass(frozen=True)
class PretrainMethod:
    """``build_model(config, layout_name) -> model``; ``build_task(config, set_data_epoch) ->
    (task, set_epoch)``, where ``set_epoch`` is the hook the loop calls at each epoch start."""

    name: str
    build_model: Callable[[RunConfig, str], nn.Module]
    build_task: Callable[[RunConfig, EpochHook], tuple[Task, EpochHook]]


_METHODS: dict[str, PretrainMethod] = {}


def register_pretrain_method(method: PretrainMethod) -> None:
    """Make ``method`` available to the pretrain stage; a name may be registered once."""
    if method.name in _METHODS:
        raise ValueError(f"pre-training method {method.name!r} is already registered")
    _METHODS[method.name] = method


def pretrain_method_name(config: RunConfig) -> str:
    """``skeletonmae`` unless the run config has a ``contrastive:`` section (then its method)."""
    return "skeletonmae" if config.contrastive is None else config.contrastive.method


def pretrain_method(config: RunConfig) -> PretrainMethod:
    """The registered method a run config asks for."""
    name = pretrain_method_name(config)
    if name not in _METHODS:
        raise ValueError(f"unknown pre-training method {name!r}; registered: {sorted(_METHODS)}")
    return _METHODS[name]


def _mae_task(config: RunConfig, set_epoch: EpochHook) -> tuple[Task, EpochHook]:
    return PretrainTask(), set_epoch


def _contrastive_task(config: RunConfig, set_epoch: EpochHook) -> tuple[Task, EpochHook]:
    task = ContrastivePretrainTask()
    return task, with_task_epoch(set_epoch, task)  # mining starts by epoch


register_pretrain_method(
    PretrainMethod("skeletonmae", lambda config, _layout: build_mae(config.model, config.mask), _mae_task)
)
for _name in ("crossclr", "aimclr"):
    register_pretrain_method(PretrainMethod(_name, build_contrastive_pretraining, _contrastive_task))
