"""Typed, frozen training hyper-parameter sections with the paper's defaults (section 4.2).

``OptimConfig`` (Adam, lr 0.005, weight decay 1e-4), ``ScheduleConfig`` (MultiStep 60/90/110,
gamma 0.1, or cosine; optional warm-up) and ``TrainingConfig`` (200 epochs, seed, precision,
compile, gradient accumulation, label smoothing 0.1, evaluation / checkpoint / logging cadence).
They are composed into :class:`skeletonmae.training.run_config.RunConfig`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from skeletonmae.config import RESULT_NEUTRAL, require


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Optimiser. ``momentum`` is used by ``sgd`` only; ``grad_clip_norm`` None disables clipping."""

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 0.005
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    grad_clip_norm: float | None = None

    def __post_init__(self) -> None:
        require(
            math.isfinite(self.lr) and self.lr > 0,
            "lr",
            f"must be a positive number, got {self.lr}; the paper uses 0.005",
        )
        require(
            self.weight_decay >= 0,
            "weight_decay",
            f"must be >= 0, got {self.weight_decay}; the paper uses 1e-4",
        )
        require(
            all(0.0 <= b < 1.0 for b in self.betas),
            "betas",
            f"each beta must be in [0, 1), got {list(self.betas)}; e.g. [0.9, 0.999]",
        )
        require(0.0 <= self.momentum < 1.0, "momentum", f"must be in [0, 1), got {self.momentum}")
        require(
            self.grad_clip_norm is None or self.grad_clip_norm > 0,
            "grad_clip_norm",
            f"must be > 0 or null (no clipping), got {self.grad_clip_norm}",
        )


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule after a linear warm-up from ``warmup_start_factor * lr`` over
    ``warmup_epochs`` (0 disables it; fractions allowed).

    ``name: multistep`` (the paper's): decay by ``gamma`` at epoch ``milestones``.
    ``name: cosine``: half-cosine from ``lr`` down to ``lr * min_lr_factor`` over the rest of the
    run (``training.epochs``); ``milestones`` and ``gamma`` are ignored.
    """

    milestones: tuple[int, ...] = (60, 90, 110)
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    warmup_start_factor: float = 0.01
    name: Literal["multistep", "cosine"] = "multistep"
    min_lr_factor: float = 0.0

    def __post_init__(self) -> None:
        require(
            all(m > 0 for m in self.milestones) and list(self.milestones) == sorted(self.milestones),
            "milestones",
            f"must be increasing positive epochs, got {list(self.milestones)}; e.g. [60, 90, 110]",
        )
        require(0 < self.gamma <= 1, "gamma", f"must be in (0, 1], got {self.gamma}")
        require(
            self.warmup_epochs >= 0,
            "warmup_epochs",
            f"must be >= 0, got {self.warmup_epochs}",
        )
        require(
            0 < self.warmup_start_factor <= 1,
            "warmup_start_factor",
            f"must be in (0, 1], got {self.warmup_start_factor}",
        )
        require(
            self.name in ("multistep", "cosine"),
            "name",
            f"must be multistep or cosine, got {self.name!r}",
        )
        require(
            0.0 <= self.min_lr_factor <= 1.0,
            "min_lr_factor",
            f"must be in [0, 1] (final lr = lr * min_lr_factor), got {self.min_lr_factor}",
        )


def snapshot_name(epoch: int) -> str:
    """File name of the checkpoint kept at the end of ``epoch`` (``training.snapshot_epochs``)."""
    return f"epoch-{epoch:04d}.pt"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Loop settings.

    ``checkpoint_every_steps`` > 0 also writes ``last.pt`` every that many optimiser steps inside
    an epoch (what makes a mid-epoch kill resumable); ``log_every_steps`` is the cadence at which
    the loss leaves the device (progress bar, non-finite check). ``limit_train_steps`` caps the
    optimiser steps per epoch (smoke runs); ``eval_every`` is in epochs.
    ``checkpoint_activations`` recomputes each encoder / decoder block's activations in the
    backward pass instead of keeping them (less memory for large batches on small GPUs, about one
    more forward pass of compute; gradients and BatchNorm statistics unchanged).
    ``snapshot_epochs`` also keeps the checkpoint of each of those epochs as
    ``epoch-NNNN.pt`` (:func:`snapshot_name`), so one long run gives the shorter schedules'
    checkpoints (a sweep's Figure 4 points).
    """

    epochs: int = 200
    seed: int = 1
    amp: Literal["none", "bf16", "fp16"] = "none"
    compile: bool = False
    checkpoint_activations: bool = False
    grad_accumulation: int = 1
    label_smoothing: float = 0.1
    eval_every: int = 1
    checkpoint_every_steps: int = dataclasses.field(default=0, metadata=RESULT_NEUTRAL)
    log_every_steps: int = dataclasses.field(default=20, metadata=RESULT_NEUTRAL)
    limit_train_steps: int | None = None
    sync_batchnorm: bool = False
    device: Literal["auto", "cpu", "cuda"] = dataclasses.field(default="auto", metadata=RESULT_NEUTRAL)
    progress_bar: bool = dataclasses.field(default=True, metadata=RESULT_NEUTRAL)
    snapshot_epochs: tuple[int, ...] = dataclasses.field(default=(), metadata=RESULT_NEUTRAL)

    def __post_init__(self) -> None:
        require(self.epochs >= 1, "epochs", f"must be >= 1, got {self.epochs}; the paper uses 200")
        object.__setattr__(self, "snapshot_epochs", tuple(self.snapshot_epochs))
        require(
            all(isinstance(e, int) and 1 <= e <= self.epochs for e in self.snapshot_epochs),
            "snapshot_epochs",
            f"got {list(self.snapshot_epochs)}; list epochs between 1 and training.epochs={self.epochs}",
        )
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(
            self.grad_accumulation >= 1,
            "grad_accumulation",
            f"must be >= 1 (batches per optimiser step), got {self.grad_accumulation}",
        )
        require(
            0.0 <= self.label_smoothing < 1.0,
            "label_smoothing",
            f"must be in [0, 1), got {self.label_smoothing}; the paper uses 0.1",
        )
        require(self.eval_every >= 1, "eval_every", f"must be >= 1 epoch, got {self.eval_every}")
        require(
            self.checkpoint_every_steps >= 0,
            "checkpoint_every_steps",
            f"must be >= 0 (0 = only at epoch ends), got {self.checkpoint_every_steps}",
        )
        require(
            self.log_every_steps >= 1,
            "log_every_steps",
            f"must be >= 1, got {self.log_every_steps}",
        )
        require(
            self.limit_train_steps is None or self.limit_train_steps >= 1,
            "limit_train_steps",
            f"must be >= 1 or null (whole epochs), got {self.limit_train_steps}",
        )
