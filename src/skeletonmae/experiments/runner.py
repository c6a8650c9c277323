"""Run a planned sweep: each cell's pre-training (shared) then fine-tuning, as normal run folders.

A complete run is skipped, a partial one resumed exactly, a fresh one started (:meth:`SweepRunner.decide`).
Before any work the sweep stops, naming each folder, where one disagrees with the plan
(:meth:`SweepRunner.problem`). An exception in one run is recorded as its failure and the sweep
goes on; the tables are rewritten after every cell.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.experiments import sweep_dir
from skeletonmae.experiments.collect import write_sweep_tables
from skeletonmae.experiments.plan import (
    PlannedCell,
    PlannedRun,
    SweepPlan,
    plan_sweep,
    resolve_spec,
    result_settings,
)
from skeletonmae.experiments.spec import SweepSpec
from skeletonmae.experiments.sweep_dir import RunRecord
from skeletonmae.run_config import load_run_config

logger = logging.getLogger(__name__)

StageFunction = Callable[..., Any]  # run_pretrain / run_finetune: (config, *, resume, pinned_model_fields)


class SweepConfigMismatch(RuntimeError):
    """A run folder holds something else than the plan asks for (:meth:`SweepRunner.problem`)."""


def _has_checkpoint(run: PlannedRun) -> bool:
    return (run.run_dir / "last.pt").is_file()


def config_mismatch(run: PlannedRun) -> str | None:
    """The changed settings (``key: old -> new``) of the run in ``run.run_dir``; None when it fits
    or holds no checkpoint (a snapshot's folder is checked as its longer run)."""
    saved_path = run.run_dir / "config.yaml"
    if run.snapshot_of is not None or not saved_path.is_file() or not _has_checkpoint(run):
        return None
    old, new = result_settings(load_run_config(saved_path)[0]), result_settings(run.config)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:5]) or None


def checkpoint_state(checkpoint: Path, epochs: int) -> tuple[str, int, dict[str, Any]]:
    """``(kind, epoch, best)`` of a checkpoint (read weights-only): ``kind`` is ``fresh`` (none),
    ``partial`` or ``complete`` (at ``epochs`` whole epochs); ``best``: RunRecord's best_* fields."""
    if not checkpoint.is_file():
        return "fresh", 0, {}
    payload = load_checkpoint(checkpoint)
    epoch = int(payload["epoch"])
    complete = epoch >= epochs and int(payload.get("step_in_epoch", 0)) == 0
    best = {key: payload.get(key) for key in ("best_metric_name", "best_metric", "best_epoch")}
    return "complete" if complete else "partial", epoch, best


def new_record(run: PlannedRun, status: str, **fields: Any) -> RunRecord:
    return RunRecord(run.stage, run.name, str(run.run_dir), status, epochs=run.epochs, **fields)


@dataclasses.dataclass(frozen=True)
class RunDecision:
    """What the runner does with a run: ``mismatch`` (the sweep stops: ``problem``), ``complete`` or
    ``failed`` (skip), ``resume`` (from ``epoch``), ``start`` or ``snapshot`` (of its longer run)."""

    action: str
    previous: RunRecord | None
    epoch: int = 0
    best: dict[str, Any] = dataclasses.field(default_factory=dict)
    problem: str = ""

    def describe(self) -> str:
        reason = self.previous.reason if self.previous else ""
        again = f" (failed before: {reason}; runs again)" if reason else ""
        return {
            "mismatch": f"mismatch, the sweep stops: {self.problem}",
            "failed": f"failed: {reason}",
            "resume": f"partial (epoch {self.epoch}){again}",
            "start": f"fresh{again}",
        }.get(self.action, self.action)


@dataclasses.dataclass
class SweepOutcome:
    """Records of every run, by stage and name, and the files written."""

    records: dict[tuple[str, str], RunRecord]
    tables: dict[str, Path]

    def failed(self) -> list[RunRecord]:
        return [r for r in self.records.values() if r.status == "failed"]


class SweepRunner:
    def __init__(
        self,
        plan: SweepPlan,
        *,
        retry_failed: bool = False,
        stage_functions: dict[str, StageFunction] | None = None,
    ) -> None:
        if stage_functions is None:
            from skeletonmae.training.stages import run_finetune, run_pretrain

            stage_functions = {"pretrain": run_pretrain, "finetune": run_finetune}
        self.plan, self.retry_failed, self.stage_functions = plan, retry_failed, stage_functions
        self.records: dict[tuple[str, str], RunRecord] = {}
        self.digests: dict[Path, str | None] = {}  # each pre-training checkpoint is read once

    def record_file(self, run: PlannedRun) -> Path:
        return sweep_dir.record_path(self.plan.spec.output_root, run.stage, run.name)

    def run(self, after_cell: Callable[[], Any] = lambda: None) -> None:
        """Run the cells of this shard in order, calling ``after_cell`` after each."""
        cells = self.plan.selected_cells
        runs = [*self.plan.selected_pretrains, *(cell.finetune for cell in cells)]
        problems = [problem for problem in map(self.problem, runs) if problem]
        if problems:
            raise SweepConfigMismatch("; ".join(problems) + " - or set a new output_root")
        for index, cell in enumerate(cells, start=1):
            logger.info("sweep %s: cell %d/%d %s", self.plan.spec.name, index, len(cells), cell.finetune.name)
            self.run_cell(cell)
            after_cell()

    def run_cell(self, cell: PlannedCell) -> RunRecord:
        if cell.pretrain is not None:
            pretrain = self.ensure(cell.pretrain)
            if pretrain.status != "complete":
                logger.warning(
                    "%s: not fine-tuned, its pre-training failed: %s", cell.finetune, pretrain.reason
                )
                return pretrain
        return self.ensure(cell.finetune)

    def ensure(self, run: PlannedRun) -> RunRecord:
        """Bring ``run`` to completion (or a recorded failure) and return its record."""
        key = (run.stage, run.name)
        if key not in self.records:
            self.records[key] = self._ensure(run)
        return self.records[key]

    def problem(self, run: PlannedRun) -> str | None:
        """Why the folder of ``run`` holds something other than the plan asks for, naming the fix;
        None when it fits (or holds no checkpoint yet)."""
        changed = config_mismatch(run)
        if changed:
            dependents = [  # the fine-tunings made from this pre-training
                c.finetune.name for c in self.plan.cells if c.pretrain == run and _has_checkpoint(c.finetune)
            ]
            also = f" and its fine-tunings in finetune/ ({', '.join(dependents)})" if dependents else ""
            other = f"{run.run_dir} holds a {run.stage} run made with other settings ({changed})"
            return f"{other}; delete that folder{also}"
        stale = self._stale_pretraining(run)
        return f"{run.run_dir}: {stale}; delete that folder to fine-tune again" if stale else None

    def _stale_pretraining(self, run: PlannedRun) -> str | None:
        """Why the fine-tuning in ``run.run_dir`` no longer matches the pre-training checkpoint it
        starts from (deleted to be redone, or redone since: its record keeps the SHA-256)."""
        pretrained = run.config.finetune.pretrained if run.stage == "finetune" else None
        record = sweep_dir.read_record(self.record_file(run)) if pretrained and _has_checkpoint(run) else None
        if record is None or record.pretrained_digest is None:
            return None
        if pretrained not in self.digests:
            self.digests[pretrained] = sweep_dir.file_digest(pretrained) if pretrained.is_file() else None
        if self.digests[pretrained] == record.pretrained_digest:
            return None
        if self.digests[pretrained] is None:
            return f"it was fine-tuned from {pretrained}, which is gone (the sweep would pre-train it again)"
        return f"it was fine-tuned from an earlier {pretrained} than the one there now"

    def decide(self, run: PlannedRun) -> RunDecision:
        """What :meth:`ensure` will do with ``run`` (reads its folder and record; changes nothing)."""
        previous = sweep_dir.read_record(self.record_file(run))
        problem = self.problem(run)
        if problem:
            return RunDecision("mismatch", previous, problem=problem)
        if run.snapshot_of is not None:  # decided by its longer run
            return RunDecision("snapshot", previous)
        kind, epoch, best = checkpoint_state(run.run_dir / "last.pt", run.epochs)
        failed_before = previous is not None and previous.status == "failed"
        if kind != "complete" and failed_before and not self.retry_failed:
            kind = "failed"
        return RunDecision({"partial": "resume", "fresh": "start"}.get(kind, kind), previous, epoch, best)

    def _ensure(self, run: PlannedRun) -> RunRecord:
        decision = self.decide(run)
        previous = decision.previous
        if decision.action == "mismatch":  # ensure() called without run()'s check first
            raise SweepConfigMismatch(decision.problem)
        if decision.action == "failed":
            logger.info("%s: skipped, failed before (%s); --retry-failed runs it again", run, previous.reason)
            return previous
        if decision.action == "complete" and previous is not None and previous.status == "complete":
            logger.info("%s: complete, skipped", run)
            return previous
        if decision.action == "complete":  # killed before its record was written, or run by hand
            logger.info("%s: complete (no record yet), skipped", run)
            seconds = sweep_dir.seconds_so_far(previous, run.run_dir)
            done = {**decision.best, "seconds": seconds, "finished_at": time.time(), "reason": None}
            record = dataclasses.replace(previous or new_record(run, "running"), status="complete", **done)
        elif decision.action == "snapshot":
            record = self._snapshot_record(run)
        else:
            record = self._attempt(run, decision)
        sweep_dir.write_record(self.record_file(run), record)
        return record

    def _snapshot_record(self, run: PlannedRun) -> RunRecord:
        """Bring the longer run to completion, then record its snapshot at ``run.epochs``."""
        longer = self.ensure(run.snapshot_of)
        if longer.status != "complete":
            reason = f"snapshot of {longer.name}, which failed: {longer.reason}"
        elif not run.checkpoint.is_file():
            reason = (
                f"{run.checkpoint} is missing: {run.run_dir} was trained before its epoch-{run.epochs} "
                "snapshot was planned; delete that folder to train it again with its snapshots"
            )
        else:
            best = checkpoint_state(run.checkpoint, run.epochs)[2]
            return new_record(run, "complete", **best, finished_at=time.time(), snapshot_of=longer.name)
        return new_record(run, "failed", reason=reason, finished_at=time.time())

    def _attempt(self, run: PlannedRun, decision: RunDecision) -> RunRecord:
        """Start or resume ``run``; its record says ``running`` until the stage returns or raises."""
        resume = decision.action == "resume"
        previous = decision.previous if resume else None  # a deleted folder's attempts are gone too
        pretrained = run.config.finetune.pretrained if run.stage == "finetune" else None
        digest = sweep_dir.file_digest(pretrained) if pretrained and pretrained.is_file() else None
        record = new_record(
            run,
            "running",
            seconds=sweep_dir.seconds_so_far(previous, run.run_dir),
            attempts=(previous.attempts if previous else 0) + 1,
            started_at=time.time(),
            pretrained_digest=digest,  # SHA-256 of the pre-training checkpoint a fine-tuning starts from
        )
        sweep_dir.write_record(self.record_file(run), record)
        logger.info("%s: %s", run, f"resuming at epoch {decision.epoch + 1}" if resume else "starting")
        started = time.perf_counter()
        stage = self.stage_functions[run.stage]
        try:
            result = stage(run.config, resume=resume, pinned_model_fields=run.pinned)
        except Exception as error:  # one failed run must not stop the sweep; KeyboardInterrupt does
            logger.error("%s failed: %s", run, error, exc_info=logger.isEnabledFor(logging.DEBUG))
            record.status, record.reason = "failed", f"{type(error).__name__}: {error}"
        else:
            record.status = "complete"
            record.best_metric_name, record.best_metric = result.best_metric_name, result.best_metric
            record.best_epoch = result.best_epoch
        record.seconds += time.perf_counter() - started
        record.finished_at = time.time()
        return record


def run_sweep(
    spec: SweepSpec,
    *,
    spec_path: Path | None = None,
    retry_failed: bool = False,
    stage_functions: dict[str, StageFunction] | None = None,
    shard: tuple[int, int] | None = None,
) -> SweepOutcome:
    """Plan ``spec`` (``shard``: part ``(K, N)`` of its cells), run the cells (skipping and
    resuming as above), write the tables."""
    plan = plan_sweep(resolve_spec(spec), shard)
    sweep_dir.write_spec_file(plan.spec, spec_path)
    runner = SweepRunner(plan, retry_failed=retry_failed, stage_functions=stage_functions)
    runner.run(after_cell=lambda: write_sweep_tables(plan))
    return SweepOutcome(runner.records, write_sweep_tables(plan))
