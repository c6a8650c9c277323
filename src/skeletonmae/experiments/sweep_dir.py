"""The sweep folder: what a sweep writes besides its run folders, and the per-run records.

::

    output_root/
      sweep.yaml            the resolved spec (first line: the command that re-runs it)
      plan.json             every planned run: names, folders, axis values, paper-matching setting
      records/pretrain/<name>.json, records/finetune/<name>.json   one RunRecord per run
      pretrain/<name>/  finetune/<name>/                           ordinary run folders
      results.md  results.csv  runs.csv  <plot>.png                the collected table

A record says whether a run completed or failed (with the reason), its best metric, the wall
time of its attempts and, for a fine-tuning, the digest of the pre-training checkpoint it started
from. A run whose process was killed keeps a ``running`` record; the next attempt
adds the time up to the run's last checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Literal

from skeletonmae.atomic import write_text_atomic
from skeletonmae.config import dump_yaml
from skeletonmae.experiments.plan import SweepPlan, comparison_setting

__all__ = [
    "RunRecord",
    "record_path",
    "read_record",
    "write_record",
    "plan_document",
    "write_plan_files",
    "read_plan_document",
    "PLAN_FILE",
    "SPEC_FILE",
    "count_model_parameters",
    "interrupted_seconds",
    "file_digest",
]

PLAN_FILE = "plan.json"
SPEC_FILE = "sweep.yaml"
RECORDS_DIR = "records"
PLAN_FORMAT_VERSION = 1

RunStatus = Literal["complete", "failed", "running"]


@dataclasses.dataclass
class RunRecord:
    """What the sweep knows about one run (see the module docstring)."""

    stage: str
    name: str
    run_dir: str
    status: RunStatus
    best_metric_name: str | None = None
    best_metric: float | None = None
    best_epoch: int | None = None
    epochs: int | None = None
    seconds: float = 0.0
    attempts: int = 0
    reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    continued_from: str | None = None
    pretrained_digest: str | None = None  # fine-tuning: SHA-256 of the best.pt it started from


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_path(output_root: Path, stage: str, name: str) -> Path:
    return Path(output_root) / RECORDS_DIR / stage / f"{name}.json"


def read_record(path: Path) -> RunRecord | None:
    """The record at ``path``, or None if there is none; a damaged one raises naming the file."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(
            f"{path}: not a sweep run record ({error}); delete it and re-run the "
            "sweep (the run folder itself is kept)"
        ) from error


def write_record(path: Path, record: RunRecord) -> Path:
    data = dataclasses.asdict(record)
    if data["best_metric"] is not None and not math.isfinite(data["best_metric"]):
        data["best_metric"] = None
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def interrupted_seconds(record: RunRecord | None, run_dir: Path) -> float:
    """Wall time of an attempt that was killed: from its start to its last checkpoint."""
    if record is None or record.status != "running" or record.started_at is None:
        return 0.0
    last = Path(run_dir) / "last.pt"
    if not last.is_file():
        return 0.0
    return max(0.0, last.stat().st_mtime - record.started_at)


def count_model_parameters(config: Any) -> dict[str, int]:
    """Encoder / decoder / total parameters of the MAE of a (data-bound) RunConfig, counted on
    the meta device (nothing is allocated)."""
    import torch

    from skeletonmae.models.cost import count_parameters
    from skeletonmae.models.factory import build_mae

    with torch.device("meta"):
        model = build_mae(config.model, config.mask)
    return {
        "encoder": count_parameters(model.encoder),
        "decoder": count_parameters(model.decoder),
        "total": count_parameters(model),
    }


def _run_entry(run: Any) -> dict[str, Any]:
    return {
        "name": run.name,
        "run_dir": str(run.run_dir),
        "epochs": run.epochs,
        "invalid": run.invalid,
        "continues_from": run.continues_from.name if run.continues_from else None,
    }


def plan_document(plan: SweepPlan) -> dict[str, Any]:
    """Everything collection and reports need, as JSON-able data (no configs to re-resolve)."""
    spec = plan.spec
    pretrains = []
    for run in plan.pretrains:
        entry = _run_entry(run)
        if spec.show_parameters and run.invalid is None:
            entry["parameters"] = count_model_parameters(run.config)
        pretrains.append(entry)
    cells = [
        {
            "variant": cell.variant.name,
            "label_fraction": cell.label_fraction,
            "seed": cell.seed,
            "pretrain": cell.pretrain.name if cell.pretrain else None,
            "finetune": _run_entry(cell.finetune),
            "setting": comparison_setting(cell),
            "selected": cell.selected,
        }
        for cell in plan.cells
    ]
    variants = [
        {
            "name": v.name,
            "axis_values": [list(pair) for pair in v.axis_values],
            "from_scratch": v.from_scratch,
            "is_extra": v.is_extra,
        }
        for v in plan.variants
    ]
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "name": spec.name,
        "title": spec.title,
        "benchmark": plan.benchmark,
        "dataset_root": str(plan.dataset_root),
        "output_root": str(plan.output_root),
        "axes": list(spec.axes),
        "label_fractions": list(spec.label_fractions),
        "seeds": list(spec.seeds),
        "show_parameters": spec.show_parameters,
        "plot": dataclasses.asdict(spec.plot) if spec.plot else None,
        "paper": dataclasses.asdict(spec.paper),
        "variants": variants,
        "pretrains": pretrains,
        "cells": cells,
        "planned_at": time.time(),
    }


def write_plan_files(plan: SweepPlan, spec_path: Path | None = None) -> dict[str, Any]:
    """Write ``sweep.yaml`` and ``plan.json`` into the output root; returns the plan document."""
    root = plan.output_root
    root.mkdir(parents=True, exist_ok=True)
    command = f"skeletonmae sweep {spec_path or root / SPEC_FILE}"
    # Absolute paths, so that the saved spec re-runs the sweep from any working directory.
    spec = dataclasses.replace(
        plan.spec, output_root=root, dataset=dataclasses.replace(plan.spec.dataset, root=plan.dataset_root)
    )
    dump_yaml(spec, root / SPEC_FILE, header=command)
    document = plan_document(plan)
    write_text_atomic(root / PLAN_FILE, json.dumps(document, indent=2, default=str) + "\n")
    return document


def read_plan_document(output_root: Path) -> dict[str, Any]:
    """The ``plan.json`` of a sweep folder; errors name the file and the fix."""
    path = Path(output_root) / PLAN_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not a sweep folder (no {PLAN_FILE}); run `skeletonmae sweep SPEC.yaml` first"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}: invalid JSON ({error.msg}, line {error.lineno}); re-run the sweep to rewrite it"
        ) from error
    missing = [k for k in ("cells", "pretrains", "variants", "axes") if k not in document]
    if missing:
        raise ValueError(f"{path}: missing {missing}; re-run the sweep to rewrite it")
    return document
