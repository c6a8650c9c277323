"""The pretrain stage looks its method up in a registry instead of branching on it."""

from __future__ import annotations

import dataclasses

import pytest

from skeletonmae.contrastive.config import ContrastiveConfig
from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.training.contrastive_task import ContrastivePretrainTask
from skeletonmae.training.methods import (
    PretrainMethod,
    pretrain_method,
    pretrain_method_name,
    register_pretrain_method,
)
from skeletonmae.training.run_config import RunConfig
from skeletonmae.training.tasks import PretrainTask


def _config(contrastive: ContrastiveConfig | None = None) -> RunConfig:
    config = RunConfig()
    model = dataclasses.replace(config.model, num_frames=12, tuple_len=3, num_joints=25, decoder_depth=1)
    return dataclasses.replace(config, model=model, contrastive=contrastive)


@pytest.mark.parametrize("method", [None, "crossclr", "aimclr"])
def test_each_built_in_method_builds_its_model_and_task(method: str | None) -> None:
    config = _config(None if method is None else ContrastiveConfig(method=method, queue_size=8))
    assert pretrain_method_name(config) == (method or "skeletonmae")
    chosen = pretrain_method(config)
    model = chosen.build_model(config, "ntu25")
    seen: list[int] = []
    task, set_epoch = chosen.build_task(config, seen.append)
    set_epoch(3)
    assert seen == [3]
    if method is None:
        assert isinstance(model, SkeletonMAE) and isinstance(task, PretrainTask)
    else:
        assert isinstance(model, ContrastiveModel) and isinstance(task, ContrastivePretrainTask)
        assert task.epoch == 3  # the hook also tells the task the epoch (mining switch)


def test_a_method_name_registers_once() -> None:
    duplicate = PretrainMethod("skeletonmae", lambda config, layout: None, lambda config, hook: (None, hook))
    with pytest.raises(ValueError, match="already registered"):
        register_pretrain_method(duplicate)
