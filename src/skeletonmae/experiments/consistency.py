"""Does a run folder still hold what the plan asks for? Checked before a sweep does any work.

Two ways an existing folder can disagree with the plan:

* its ``config.yaml`` differs in a result-relevant setting (the spec changed since), or
* it is a fine-tuning made from another pre-training checkpoint than the one its cell's
  pre-training folder holds now (the pre-training was deleted and is to be redone, or was
  redone). The fine-tuning's record keeps the SHA-256 of the ``best.pt`` it started from.

Either stops the sweep with every differing folder named, so old results are never silently
reused for new settings; ``--dry-run`` shows the same reasons as the runs' state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from skeletonmae.config import read_yaml_mapping, to_plain
from skeletonmae.experiments.plan import (
    RESULT_NEUTRAL_KEYS,
    PlannedCell,
    PlannedRun,
    SweepPlan,
    config_identity,
)
from skeletonmae.experiments.spec import flatten_settings
from skeletonmae.experiments.sweep_dir import file_digest, read_record, record_path


class SweepConfigMismatch(RuntimeError):
    """A run folder holds a run made with different result-relevant settings, or a fine-tuning
    made from another pre-training checkpoint than its cell's."""


def _has_checkpoint(run: PlannedRun) -> bool:
    return (run.run_dir / "last.pt").is_file()


def config_mismatch(run: PlannedRun) -> str | None:
    """The changed settings (``key: old -> new``) of the run in ``run.run_dir``; None when the
    folder holds no checkpoint or was made with the planned settings (a snapshot's folder is its
    longer run's, checked as that run)."""
    from skeletonmae.training.run_config import run_config_from_mapping

    saved_path = run.run_dir / "config.yaml"
    if run.snapshot_of is not None or not saved_path.is_file() or not _has_checkpoint(run):
        return None
    saved = run_config_from_mapping(read_yaml_mapping(saved_path))
    if config_identity(saved) == config_identity(run.config):
        return None
    old, new = flatten_settings(to_plain(saved)), flatten_settings(to_plain(run.config))
    changed = sorted(
        k for k in set(old) | set(new) if k not in RESULT_NEUTRAL_KEYS and old.get(k) != new.get(k)
    )
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:5])


def pretraining_mismatch(
    cell: PlannedCell, output_root: Path, digest: Callable[[Path], str | None]
) -> str | None:
    """Why the fine-tuning folder of ``cell`` no longer matches its pre-training; None when it
    does, when it holds no checkpoint, or when its record predates the digest."""
    if cell.pretrain is None or not _has_checkpoint(cell.finetune):
        return None
    record = read_record(record_path(output_root, "finetune", cell.finetune.name))
    if record is None or record.pretrained_digest is None:
        return None
    checkpoint = cell.pretrain.checkpoint
    now = digest(checkpoint)
    if now == record.pretrained_digest:
        return None
    if now is None:
        return f"it was fine-tuned from {checkpoint}, which is gone (the sweep would pre-train it again)"
    return f"it was fine-tuned from an earlier {checkpoint} than the one there now"


def folder_problems(plan: SweepPlan) -> dict[tuple[str, str], str]:
    """``(stage, name) -> problem`` for every folder of the selected runs that holds something
    other than the plan asks for, each naming the fix; empty when every folder fits."""

    @functools.cache
    def digest(path: Path) -> str | None:  # each checkpoint is read once per check
        return file_digest(path) if path.is_file() else None

    problems: dict[tuple[str, str], str] = {}
    for run in plan.selected_pretrains:
        changed = config_mismatch(run)
        if changed:
            dependents = [
                c.finetune.run_dir.name
                for c in plan.cells
                if c.pretrain is not None and c.pretrain.name == run.name and _has_checkpoint(c.finetune)
            ]
            also = f" and its fine-tunings in finetune/ ({', '.join(dependents)})" if dependents else ""
            problems[run.stage, run.name] = (
                f"{run.run_dir} holds a pretrain run made with other settings ({changed}); "
                f"delete that folder{also}"
            )

    for cell in plan.selected_cells:
        run = cell.finetune
        changed = config_mismatch(run)
        stale = pretraining_mismatch(cell, plan.output_root, digest)
        if changed:
            problems[run.stage, run.name] = (
                f"{run.run_dir} holds a finetune run made with other settings ({changed}); delete that folder"
            )
        elif stale:
            problems[run.stage, run.name] = f"{run.run_dir}: {stale}; delete that folder to fine-tune again"
    return problems
