"""The pretrain stage builds SkeletonMAE, or the contrastive model of a ``contrastive:`` section,
and steps both through the same loop; the epoch hook switches contrastive mining on."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from skeletonmae.contrastive.model import ContrastiveModel
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.run_config import ContrastiveConfig, RunConfig
from skeletonmae.training.stages import _epoch_hook, _stage_task, build_stage_model
from skeletonmae.training.tasks import ContrastivePretrainTask, PretrainTask


def _config(contrastive: ContrastiveConfig | None = None) -> RunConfig:
    config = RunConfig()
    model = dataclasses.replace(config.model, num_frames=12, tuple_len=3, num_joints=25, decoder_depth=1)
    return dataclasses.replace(config, model=model, contrastive=contrastive)


@pytest.mark.parametrize("method", [None, "crossclr", "aimclr"])
def test_pretrain_builds_the_method_of_the_config_and_one_loss_step_runs(method: str | None) -> None:
    config = _config(
        None if method is None else ContrastiveConfig(method=method, queue_size=8, mining_start_epoch=2)
    )
    model = build_stage_model("pretrain", config, "ntu25", num_samples=100)
    seen: list[int] = []
    task = _stage_task("pretrain", config)
    _epoch_hook("pretrain", config, seen.append, model)(3)
    assert seen == [3]
    x = torch.randn(2, 3, 12, 25, 2, generator=torch.Generator().manual_seed(0))
    loss = task.step(model, x, torch.zeros(2), torch.Generator().manual_seed(1)).loss
    assert torch.isfinite(loss) and loss.requires_grad
    if method is None:
        assert isinstance(model, SkeletonMAE) and type(task) is PretrainTask
    else:
        assert isinstance(model, ContrastiveModel) and isinstance(task, ContrastivePretrainTask)
        assert model.mining_active  # the hook told the model the epoch (mining from epoch 2)


def test_contrastive_pretraining_refuses_other_streams_and_2d_input() -> None:
    config = _config(ContrastiveConfig(method="aimclr", queue_size=8))
    bone = dataclasses.replace(
        config.data, transform=dataclasses.replace(config.data.transform, stream="bone")
    )
    with pytest.raises(ValueError, match="stream=joint"):
        build_stage_model("pretrain", dataclasses.replace(config, data=bone), "ntu25", 100)
    flat = dataclasses.replace(config.model, in_channels=2)
    with pytest.raises(ValueError, match="in_channels=2"):
        build_stage_model("pretrain", dataclasses.replace(config, model=flat), "ntu25", 100)
