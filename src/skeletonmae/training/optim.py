"""Optimisers and learning-rate schedules (paper: Adam lr 0.005 wd 1e-4, MultiStep 60/90/110 x0.1).

The schedule is stepped once per optimiser step (not per epoch) so that a run resumed in the middle
of an epoch sees exactly the learning rates of an uninterrupted one. Milestones stay in epochs, as
in the paper; they are converted with the number of optimiser steps per epoch.
"""

from __future__ import annotations

import bisect
from typing import Iterable

import torch

from skeletonmae.training.settings import OptimConfig, ScheduleConfig


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter], config: OptimConfig
) -> torch.optim.Optimizer:
    """The optimiser named by ``config.name`` over the parameters that require gradients."""
    trainable = [p for p in parameters if p.requires_grad]
    if not trainable:
        raise ValueError("no trainable parameters: every parameter has requires_grad=False")
    if config.name == "adam":
        return torch.optim.Adam(
            trainable, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
        )
    if config.name == "adamw":
        return torch.optim.AdamW(
            trainable, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
        )
    return torch.optim.SGD(
        trainable,
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.momentum > 0,
        weight_decay=config.weight_decay,
    )


class MultiStepWarmupFactor:
    """LR multiplier at optimiser step ``s``: linear warm-up, then ``gamma`` at each milestone.

    A plain callable object (not a lambda) so ``LambdaLR.state_dict`` stores its numbers.
    """

    def __init__(
        self, milestone_steps: list[int], gamma: float, warmup_steps: int, warmup_start: float
    ) -> None:
        self.milestone_steps = sorted(milestone_steps)
        self.gamma = gamma
        self.warmup_steps = warmup_steps
        self.warmup_start = warmup_start

    def __call__(self, step: int) -> float:
        decay = self.gamma ** bisect.bisect_right(self.milestone_steps, step)
        if step < self.warmup_steps:
            progress = step / self.warmup_steps
            return decay * (self.warmup_start + (1.0 - self.warmup_start) * progress)
        return decay


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: ScheduleConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-optimiser-step ``LambdaLR`` for the MultiStep (+ optional warm-up) schedule."""
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    factor = MultiStepWarmupFactor(
        milestone_steps=[m * steps_per_epoch for m in config.milestones],
        gamma=config.gamma,
        warmup_steps=round(config.warmup_epochs * steps_per_epoch),
        warmup_start=config.warmup_start_factor,
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)
