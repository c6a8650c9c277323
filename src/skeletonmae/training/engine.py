"""The epoch loop shared by every stage: accumulation, AMP, checkpoints, resume, logging.

A stage supplies a :class:`~skeletonmae.training.loop_types.Task` (a step's loss, validation, the
metric that picks the best checkpoint); :meth:`Trainer.fit` does the rest:

* ``training.grad_accumulation`` micro-batches per optimiser step (DDP's ``no_sync`` in between),
  bf16 / fp16 autocast (a ``GradScaler`` for fp16), optional clipping;
* the loss stays on the device and is read every ``training.log_every_steps`` steps and before
  every checkpoint, so a non-finite loss raises ``NonFiniteLossError`` before it reaches one;
* rank 0 writes ``last.pt`` at every epoch end and every ``training.checkpoint_every_steps``
  steps, ``best.pt`` when the metric improves, ``epoch-NNNN.pt`` at ``training.snapshot_epochs``;
* resume from ``last.pt`` restores everything down to the RNG streams and the step in the epoch
  (the sampler skips the samples seen), so a killed, resumed run ends with the same weights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from skeletonmae.checkpoints import CHECKPOINT_FORMAT_VERSION, load_checkpoint, save_checkpoint
from skeletonmae.config import to_plain
from skeletonmae.distributed import (
    all_gather_objects,
    all_reduce_sum,
    broadcast_buffers,
    no_gradient_sync,
    unwrap_model,
)
from skeletonmae.run_config import snapshot_name
from skeletonmae.training.loop_types import (
    EpochMeter,
    LoopState,
    NonFiniteLossError,
    RunResult,
    TrainingSetup,
    count_steps_per_epoch,
)
from skeletonmae.training.rng_state import capture_rng_state, restore_rng_state
from skeletonmae.training.run_dir import MetricsLog, open_tensorboard

logger = logging.getLogger(__name__)


def warn_slow_cpu_amp(amp: str, device: torch.device) -> None:
    """Warn when ``training.amp=bf16`` runs on a CPU without AVX-512 BF16 or AMX: bfloat16 is
    emulated there, 0.06-0.18x the speed of fp32 on an AVX2-only CPU (docs/model.md)."""
    if amp != "bf16" or device.type != "cpu":
        return
    if not (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()):
        logger.warning(
            "training.amp=bf16 on a CPU without AVX-512 BF16 or AMX: bfloat16 is emulated here "
            "and runs several times slower than fp32; use training.amp=none on this machine"
        )


class Trainer:
    """Runs :class:`TrainingSetup` to completion; see the module docstring."""

    def __init__(self, setup: TrainingSetup) -> None:
        self.setup = setup
        self.settings = setup.config.training
        self.config_dict = to_plain(setup.config)
        self.context = setup.context
        self.state = LoopState()
        self.micro_batches = self.settings.grad_accumulation
        self.steps_per_epoch = count_steps_per_epoch(len(setup.train.loader), self.settings)
        device = self.context.device
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.settings.amp)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.settings.amp == "fp16")
        warn_slow_cpu_amp(self.settings.amp, device)
        seed = self.settings.seed + 1_000_003 * self.context.rank
        self.mask_generator = torch.Generator(device=device).manual_seed(seed)
        self._pending_nonfinite: torch.Tensor | None = None
        self.meter = EpochMeter(device)
        self.metrics = MetricsLog(setup.run_dir / "metrics.csv", write=self.context.is_main)
        self.tensorboard = None

    def checkpoint_payload(self, rng_per_rank: list | None = None) -> dict[str, Any]:
        """What a checkpoint holds; ``rng_per_rank``: every rank's RNG state (each rank draws its
        own masks and dropout), so that a resumed multi-process run continues every rank's streams."""
        rng = capture_rng_state({"mask": self.mask_generator})
        return {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "stage": self.setup.task.name,
            "model": unwrap_model(self.setup.model).state_dict(),
            "optimizer": self.setup.optimizer.state_dict(),
            "scheduler": self.setup.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "rng": rng,
            "rng_per_rank": rng_per_rank or [rng],
            **dataclasses.asdict(self.state),  # epoch, step_in_epoch, global_step, best_metric, best_epoch
            "best_metric_name": self.setup.task.best_metric,
            "epoch_meter": self.meter.state_dict(),
            "config": self.config_dict,
            "extra": self.setup.checkpoint_extra,
        }

    def save(self, name: str) -> None:
        """Write ``name`` (``last.pt`` / ``best.pt``) on rank 0, after a non-finite check; every rank
        calls it (the RNG states are gathered from all of them)."""
        self.raise_if_nonfinite()
        rng_per_rank = all_gather_objects(capture_rng_state({"mask": self.mask_generator}), self.context)
        if self.context.is_main:
            save_checkpoint(self.setup.run_dir / name, self.checkpoint_payload(rng_per_rank))

    def _own_rng_state(self, path: Path, payload: dict[str, Any]) -> dict[str, Any]:
        """This rank's saved RNG state; a checkpoint of another world size (or of an older version)
        only holds rank 0's, which every rank then starts from (a warning says so)."""
        states = payload.get("rng_per_rank") or [payload["rng"]]
        if len(states) == self.context.world_size:
            return states[self.context.rank]
        if self.context.world_size > 1 or len(states) > 1:
            message = "%s holds the random state of %d process(es), this run has %d: every rank resumes "
            message += "from rank 0's, so masks and dropout differ from an uninterrupted run"
            logger.warning(message, path, len(states), self.context.world_size)
        return states[0]

    def resume(self, path: Path) -> None:
        """Restore everything from ``path``; the next step is the one after the saved one."""
        payload = load_checkpoint(path)
        if payload.get("stage") != self.setup.task.name:
            raise ValueError(
                f"{path}: checkpoint of stage {payload.get('stage')!r} cannot resume "
                f"a {self.setup.task.name!r} run; pick the matching run folder"
            )
        _warn_config_changes(path, payload["config"], self.config_dict)
        unwrap_model(self.setup.model).load_state_dict(payload["model"])
        self.setup.optimizer.load_state_dict(payload["optimizer"])
        self.setup.scheduler.load_state_dict(payload["scheduler"])
        if payload["scaler"] is not None:
            self.scaler.load_state_dict(payload["scaler"])
        restore_rng_state(self._own_rng_state(path, payload), {"mask": self.mask_generator})
        self.meter.load_state_dict(payload["epoch_meter"])
        self.state = state = LoopState(**{f.name: payload[f.name] for f in dataclasses.fields(LoopState)})
        self.metrics = MetricsLog.resume(
            self.setup.run_dir / "metrics.csv", state.epoch + 1, self.context.is_main
        )
        where = f"epoch {state.epoch + 1}, step {state.step_in_epoch} of {self.steps_per_epoch}"
        logger.info("resumed %s at %s", path, where)

    def fit(self) -> RunResult:
        setup = self.setup
        if self.context.is_main:
            self.tensorboard = open_tensorboard(setup.run_dir)
        try:
            while self.state.epoch < self.settings.epochs:
                train_metrics = self.train_epoch()
                broadcast_buffers(unwrap_model(setup.model), self.context)
                row = {"epoch": float(self.state.epoch + 1), **train_metrics}
                if self._validation_due():
                    row.update(setup.task.validate(setup.model, setup.val_loader, self.context))
                self.finish_epoch(row)
        finally:
            if self.tensorboard is not None:
                self.tensorboard.close()
        task, state = setup.task, self.state
        return RunResult(
            task.name,
            setup.run_dir,
            setup.config,
            task.best_metric,
            state.best_metric,
            state.best_epoch,
            self.metrics.rows,
            unwrap_model(setup.model),
        )

    def _better(self, new: float, old: float) -> bool:
        return new > old if self.setup.task.higher_is_better else new < old

    def _validation_due(self) -> bool:
        if self.setup.val_loader is None:
            return False
        epoch = self.state.epoch + 1
        return epoch % self.settings.eval_every == 0 or epoch == self.settings.epochs

    def finish_epoch(self, row: dict[str, float]) -> None:
        """Log the epoch, update best, write ``last.pt`` (and ``best.pt``) for the next epoch."""
        task = self.setup.task
        metric_name = task.best_metric if self.setup.val_loader is not None else task.train_metric
        value, best = row.get(metric_name), self.state.best_metric
        improved = value is not None and math.isfinite(value) and (best is None or self._better(value, best))
        if improved:
            self.state.best_metric, self.state.best_epoch = value, self.state.epoch + 1
        self.state.epoch += 1
        self.state.step_in_epoch = 0
        self.metrics.record(row)
        if self.context.is_main:
            self._log_epoch(row)
        self.save("last.pt")
        if improved:
            self.save("best.pt")
        if self.state.epoch in self.settings.snapshot_epochs:
            self.save(snapshot_name(self.state.epoch))

    def _log_epoch(self, row: dict[str, float]) -> None:
        text = " ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")
        logger.info("%s epoch %d/%d: %s", self.setup.task.name, int(row["epoch"]), self.settings.epochs, text)
        if self.tensorboard is not None:
            for key, value in row.items():
                if key != "epoch" and math.isfinite(value):
                    self.tensorboard.add_scalar(f"epoch/{key}", value, int(row["epoch"]))

    def train_epoch(self) -> dict[str, float]:
        """Run the remaining optimiser steps of the current epoch; returns its train metrics."""
        setup, state = self.setup, self.state
        train = setup.train
        train.set_epoch(state.epoch)
        train.sampler.set_epoch(state.epoch)
        train.sampler.set_start(state.step_in_epoch * self.micro_batches * train.micro_batch_size)
        setup.model.train()
        if state.step_in_epoch == 0:
            self.meter = EpochMeter(self.context.device)
        meter = self.meter
        bar = tqdm(
            total=self.steps_per_epoch,
            initial=state.step_in_epoch,
            unit="step",
            desc=f"{setup.task.name} {state.epoch + 1}/{self.settings.epochs}",
            disable=not (self.context.is_main and self.settings.progress_bar),
            leave=False,
            dynamic_ncols=True,
        )
        batches = iter(train.loader)
        clock = (time.perf_counter(), 0)
        try:
            while state.step_in_epoch < self.steps_per_epoch:
                self.optimizer_step(batches, meter)
                bar.update(1)
                if state.step_in_epoch % self.settings.log_every_steps == 0:
                    clock = self._report(meter, bar, clock)
                every = self.settings.checkpoint_every_steps
                if every and state.step_in_epoch % every == 0 and state.step_in_epoch < self.steps_per_epoch:
                    self.save("last.pt")  # mid-epoch: the epoch end writes its own
        finally:
            bar.close()
        train.sampler.set_start(0)
        return self._epoch_summary(meter)

    def optimizer_step(self, batches: Iterator, meter: EpochMeter) -> None:
        """One optimiser step over ``grad_accumulation`` micro-batches."""
        setup = self.setup
        device = self.context.device
        for index in range(self.micro_batches):
            inputs, labels, _ = next(batches)
            inputs = inputs.to(device, non_blocking=True)  # (B, C, T, V, M)
            labels = labels.to(device, non_blocking=True)  # (B,)
            last = index == self.micro_batches - 1
            with no_gradient_sync(setup.model, skip=not last):
                with self._autocast():
                    output = setup.task.step(setup.model, inputs, labels, self.mask_generator)
                self.scaler.scale(output.loss / self.micro_batches).backward()
            meter.add(output, inputs.shape[0])
        clip = setup.config.optim.grad_clip_norm
        if clip is not None:
            self.scaler.unscale_(setup.optimizer)
            torch.nn.utils.clip_grad_norm_(setup.model.parameters(), clip)
        self.scaler.step(setup.optimizer)
        self.scaler.update()
        setup.optimizer.zero_grad(set_to_none=True)
        setup.scheduler.step()
        self.state.step_in_epoch += 1
        self.state.global_step += 1
        self._pending_nonfinite = meter.nonfinite

    @property
    def base_lr(self) -> float:
        """The learning rate now of the fastest parameter group (with layer decay: the head's)."""
        return max(group["lr"] for group in self.setup.optimizer.param_groups)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.context.device.type, dtype=self.amp_dtype)

    def raise_if_nonfinite(self) -> None:
        """Host sync: raise if any rank saw a non-finite loss since the epoch started."""
        flag = self._pending_nonfinite
        if flag is None:
            return
        flag = all_reduce_sum(flag.to(torch.float32).clone(), self.context)
        if float(flag) > 0:
            raise NonFiniteLossError(
                f"{self.setup.task.name}: the training loss became NaN or infinite in epoch "
                f"{self.state.epoch + 1} (by optimiser step {self.state.global_step}); the last "
                f"good checkpoint {self.setup.run_dir / 'last.pt'} was kept. Lower optim.lr, set "
                "optim.grad_clip_norm, or use training.amp=none"
            )

    def _report(self, meter: EpochMeter, bar: tqdm, clock: tuple[float, int]) -> tuple[float, int]:
        """Log-cadence host sync: non-finite check, progress bar and TensorBoard."""
        self.raise_if_nonfinite()
        now = time.perf_counter()
        throughput = (meter.samples - clock[1]) * self.context.world_size / max(now - clock[0], 1e-9)
        loss = float(meter.loss_sum) / max(meter.samples, 1)
        lr = self.base_lr
        bar.set_postfix(loss=f"{loss:.4g}", lr=f"{lr:.3g}", samples_per_s=f"{throughput:.1f}")
        if self.tensorboard is not None:
            for name, value in (("loss", loss), ("lr", lr), ("samples_per_s", throughput)):
                self.tensorboard.add_scalar(f"step/{name}", value, self.state.global_step)
        return now, meter.samples

    def _epoch_summary(self, meter: EpochMeter) -> dict[str, float]:
        self.raise_if_nonfinite()
        samples = meter.loss_sum.new_tensor(float(meter.samples))  # float64, on the device
        totals = all_reduce_sum(torch.stack([meter.loss_sum, meter.correct, samples]), self.context).tolist()
        count = max(totals[2], 1.0)
        summary = {"train_loss": totals[0] / count, "lr": self.base_lr}
        if meter.has_accuracy:
            summary["train_top1"] = totals[1] / count
        return summary


def _warn_config_changes(path: Path, saved: dict, current: dict, prefix: str = "") -> None:
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            _warn_config_changes(path, old, new, f"{prefix}{key}.")
        elif old != new:
            changed = "%s: resuming with %s%s=%r (checkpoint had %r); "
            logger.warning(
                changed + "the run will not reproduce an uninterrupted one", path, prefix, key, new, old
            )
