"""Optimisers and learning-rate schedules (paper: Adam lr 0.005 wd 1e-4, MultiStep 60/90/110 x0.1;
or a cosine decay over the whole run).

The schedule steps once per optimiser step, so a run resumed mid-epoch sees exactly the learning
rates of an uninterrupted one; milestones, warm-up and run length are given in epochs, as in the paper.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Iterable

import torch

from skeletonmae.run_config import OptimConfig, ScheduleConfig


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter] | Iterable[dict], config: OptimConfig
) -> torch.optim.Optimizer:
    """The optimiser named by ``config.name`` over the parameters that require gradients.

    ``parameters`` may also be groups ``{"params": [...], "lr_scale": s}`` (see
    :func:`layer_decay_groups`): a group's learning rate is ``config.lr * s``, and the schedule
    scales every group by the same factor (a group's ``"hold_epochs"`` is kept for
    :func:`build_scheduler`)."""
    groups = _trainable_groups(list(parameters), config.lr)
    if not groups:
        raise ValueError("no trainable parameters: every parameter has requires_grad=False")
    if config.name in ("adam", "adamw"):
        adam = torch.optim.Adam if config.name == "adam" else torch.optim.AdamW
        return adam(groups, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
    nesterov = config.momentum > 0
    return torch.optim.SGD(
        groups, lr=config.lr, momentum=config.momentum, nesterov=nesterov, weight_decay=config.weight_decay
    )


def _trainable_groups(parameters: list, lr: float) -> list[dict]:
    """Parameter groups holding only parameters that require gradients (empty groups dropped)."""
    if parameters and not isinstance(parameters[0], dict):
        parameters = [{"params": parameters}]
    groups = []
    for group in parameters:
        trainable = [p for p in group["params"] if p.requires_grad]
        if trainable:
            kept = {"hold_epochs": group["hold_epochs"]} if "hold_epochs" in group else {}
            groups.append({"params": trainable, "lr": lr * group.get("lr_scale", 1.0), **kept})
    return groups


def layer_decay_groups(
    named_parameters: Iterable[tuple[str, torch.nn.Parameter]], num_blocks: int, decay: float
) -> list[dict]:
    """Layer-wise learning-rate decay (as in BEiT / MAE / MAMP fine-tuning) for a classifier:
    the head keeps the full rate, encoder block ``i`` (of ``num_blocks``) gets
    ``decay ** (num_blocks - i)``, the input and frame embeddings ``decay ** (num_blocks + 1)``.
    Names may carry DDP's ``module.`` prefix. Returns groups for :func:`build_optimizer`."""
    by_layer: dict[int, list[torch.nn.Parameter]] = {}
    for name, parameter in named_parameters:
        by_layer.setdefault(_layer_id(name.removeprefix("module."), num_blocks), []).append(parameter)
    return [
        {"params": params, "lr_scale": decay ** (num_blocks + 1 - layer)}
        for layer, params in sorted(by_layer.items())
    ]


def _layer_id(name: str, num_blocks: int) -> int:
    """0 for the embeddings, ``i + 1`` for ``encoder.blocks.i``, ``num_blocks + 1`` for the rest."""
    if name.startswith(("encoder.input_embedding.", "encoder.frame_embedding")):
        return 0
    if name.startswith("encoder.blocks."):
        return int(name.split(".")[2]) + 1
    return num_blocks + 1


def hold_multiplier(step: int, hold_steps: int, ramp_steps: int) -> float:
    """0 for the first ``hold_steps`` optimiser steps, then a linear ramp to 1 over
    ``ramp_steps`` (a held parameter group: linear probing before fine-tuning, LP-FT)."""
    if hold_steps <= 0:
        return 1.0
    if step < hold_steps:
        return 0.0
    return min(1.0, (step - hold_steps + 1) / max(ramp_steps, 1))


class MultiStepWarmupFactor:
    """LR multiplier at optimiser step ``s``: linear warm-up, then ``gamma`` at each milestone;
    times :func:`hold_multiplier` (``hold_steps`` is set per group by :func:`build_scheduler`).
    A plain callable object, not a lambda, so ``LambdaLR.state_dict`` stores its numbers."""

    def __init__(
        self, milestone_steps: list[int], gamma: float, warmup_steps: int, warmup_start: float
    ) -> None:
        self.milestone_steps, self.gamma = sorted(milestone_steps), gamma
        self.warmup_steps, self.warmup_start, self.hold_steps = warmup_steps, warmup_start, 0

    def __call__(self, step: int) -> float:
        decay = self.gamma ** bisect.bisect_right(self.milestone_steps, step)
        if step < self.warmup_steps:
            progress = step / self.warmup_steps
            decay *= self.warmup_start + (1.0 - self.warmup_start) * progress
        return decay * hold_multiplier(step, self.hold_steps, self.warmup_steps)


class CosineWarmupFactor:
    """LR multiplier at optimiser step ``s``: linear warm-up, then a half-cosine from 1 down to
    ``min_factor`` at ``total_steps`` (held there after it); times :func:`hold_multiplier`."""

    def __init__(self, total_steps: int, warmup_steps: int, warmup_start: float, min_factor: float) -> None:
        self.total_steps, self.warmup_steps, self.warmup_start = total_steps, warmup_steps, warmup_start
        self.min_factor, self.hold_steps = min_factor, 0

    def __call__(self, step: int) -> float:
        return self._base(step) * hold_multiplier(step, self.hold_steps, self.warmup_steps)

    def _base(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.warmup_start + (1.0 - self.warmup_start) * step / self.warmup_steps
        decay_steps = max(self.total_steps - self.warmup_steps, 1)
        progress = min((step - self.warmup_steps) / decay_steps, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_factor + (1.0 - self.min_factor) * cosine


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    config: ScheduleConfig,
    steps_per_epoch: int,
    total_epochs: int | None = None,
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-optimiser-step ``LambdaLR`` for ``config`` (MultiStep or cosine, + optional warm-up).

    ``total_epochs`` (the run's ``training.epochs``) is required by the cosine schedule only. A
    parameter group with ``"hold_epochs": n`` (see :func:`build_optimizer`) learns at rate 0 for
    its first ``n`` epochs, then ramps up over the warm-up length to the schedule's rate.
    """
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    if config.name == "cosine":
        factor = _cosine_factor(config, steps_per_epoch, total_epochs, warmup_steps)
    else:
        milestones = [m * steps_per_epoch for m in config.milestones]
        factor = MultiStepWarmupFactor(milestones, config.gamma, warmup_steps, config.warmup_start_factor)
    factors = [copy.copy(factor) for _ in optimizer.param_groups]  # one per group: its hold
    for group_factor, group in zip(factors, optimizer.param_groups):
        group_factor.hold_steps = int(group.get("hold_epochs", 0)) * steps_per_epoch
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=factors)


def _cosine_factor(
    config: ScheduleConfig, steps_per_epoch: int, total_epochs: int | None, warmup_steps: int
) -> CosineWarmupFactor:
    if total_epochs is None or total_epochs < 1:
        raise ValueError(
            f"the cosine schedule needs the run length: total_epochs must be >= 1, got {total_epochs}"
        )
    total_steps = total_epochs * steps_per_epoch
    if warmup_steps >= total_steps:
        raise ValueError(
            f"schedule.warmup_epochs ({config.warmup_epochs}) must be shorter than the run "
            f"({total_epochs} epochs) for the cosine schedule"
        )
    return CosineWarmupFactor(total_steps, warmup_steps, config.warmup_start_factor, config.min_lr_factor)
