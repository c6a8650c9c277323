"""The types the epoch loop and the stages exchange: the task contract, the setup, the state."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Generator, Tensor, nn
from torch.utils.data import DataLoader

from skeletonmae.distributed import DistributedContext, ResumableDistributedSampler
from skeletonmae.run_config import RunConfig, TrainingConfig

Metrics = dict[str, float]  # a row of metrics.csv: name -> value


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the last good checkpoint was left untouched."""


@dataclasses.dataclass
class StepOutput:
    """One micro-batch: mean ``loss`` (scalar) and, for classifiers, top-1 ``correct`` count."""

    loss: torch.Tensor
    correct: torch.Tensor | None = None


class Task(Protocol):
    """What differs between pre-training, fine-tuning and linear evaluation."""

    name: str
    best_metric: str  # a key of the validation metrics, e.g. "val_loss" or "val_top1"
    train_metric: str  # its training-side twin, chooses best.pt when there is no validation split
    higher_is_better: bool

    def step(self, model: nn.Module, inputs: Tensor, labels: Tensor, generator: Generator) -> StepOutput: ...

    def validate(self, model: nn.Module, loader: DataLoader, context: DistributedContext) -> Metrics: ...


@dataclasses.dataclass
class TrainData:
    """Micro-batches of ``micro_batch_size`` samples from ``loader``, drawn by the resumable
    ``sampler``; ``set_epoch`` starts an epoch (it re-seeds augmentation)."""

    loader: DataLoader
    sampler: ResumableDistributedSampler
    set_epoch: Callable[[int], None]
    micro_batch_size: int


@dataclasses.dataclass
class TrainingSetup:
    """Everything :meth:`Trainer.fit` drives. ``model`` may be DDP / compiled; ``config`` is the
    resolved run (its ``training`` section drives the loop, all of it is saved);
    ``checkpoint_extra`` is stored as the checkpoints' ``extra`` entry (e.g. class names)."""

    task: Task
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train: TrainData
    val_loader: DataLoader | None
    config: RunConfig
    run_dir: Path
    context: DistributedContext
    checkpoint_extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class LoopState:
    """Where training is: epoch in progress (0-based), optimiser steps done in it and overall."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    best_metric: float | None = None
    best_epoch: int = 0


@dataclasses.dataclass
class RunResult:
    """What a stage produced. ``best_metric`` is ``val_loss`` (pretrain) or ``val_top1``;
    ``history`` holds one metrics row per epoch."""

    stage: str
    run_dir: Path
    config: RunConfig
    best_metric_name: str
    best_metric: float | None
    best_epoch: int
    history: list[Metrics]
    model: torch.nn.Module

    @property
    def best_checkpoint(self) -> Path:
        return self.run_dir / "best.pt"

    @property
    def last_checkpoint(self) -> Path:
        return self.run_dir / "last.pt"


def count_steps_per_epoch(batches_per_epoch: int, settings: TrainingConfig) -> int:
    """Optimiser steps in an epoch of ``batches_per_epoch`` micro-batches (incomplete
    accumulation groups are dropped), capped by ``limit_train_steps``."""
    steps = batches_per_epoch // settings.grad_accumulation
    if settings.limit_train_steps is not None:
        steps = min(steps, settings.limit_train_steps)
    if steps < 1:
        raise ValueError(
            f"the training split gives {batches_per_epoch} full batches per process, fewer than training."
            f"grad_accumulation={settings.grad_accumulation}; use a smaller data.batch_size or more samples"
        )
    return steps


class EpochMeter:
    """Sums of one epoch on the device (no host sync per step); saved in mid-epoch checkpoints
    so a resumed epoch reports the same train metrics as an uninterrupted one."""

    def __init__(self, device: torch.device) -> None:
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.correct = torch.zeros((), dtype=torch.float64, device=device)
        self.nonfinite = torch.zeros((), dtype=torch.bool, device=device)
        self.samples = 0
        self.has_accuracy = False

    def add(self, output: StepOutput, batch_size: int) -> None:
        loss = output.loss.detach()
        self.nonfinite |= ~torch.isfinite(loss)
        self.loss_sum += loss.double() * batch_size
        self.samples += batch_size
        if output.correct is not None:
            self.correct += output.correct.detach().double()
            self.has_accuracy = True

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss_sum": self.loss_sum.cpu(),
            "correct": self.correct.cpu(),
            "samples": self.samples,
            "has_accuracy": self.has_accuracy,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss_sum.copy_(state["loss_sum"])
        self.correct.copy_(state["correct"])
        self.samples = int(state["samples"])
        self.has_accuracy = bool(state["has_accuracy"])
