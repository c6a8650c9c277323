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
import time
from pathlib import Path
from typing import Any, Literal

from skeletonmae.atomic import write_json_atomic
from skeletonmae.config import dump_yaml, from_mapping, to_plain
from skeletonmae.experiments.plan import PlannedRun, SweepPlan, comparison_setting
from skeletonmae.experiments.spec import PaperComparison, PlotSpec

PLAN_FILE = "plan.json"
SPEC_FILE = "sweep.yaml"
PLAN_FORMAT_VERSION = 3

RunStatus = Literal["complete", "failed", "running"]


@dataclasses.dataclass
class RunRecord:
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
    snapshot_of: str | None = None  # pre-training: the longer run whose epoch checkpoint this is
    pretrained_digest: str | None = None  # fine-tuning: SHA-256 of the best.pt it started from


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_path(output_root: Path, stage: str, name: str) -> Path:
    return Path(output_root) / "records" / stage / f"{name}.json"


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
    """Write ``record`` atomically (a non-finite metric as null)."""
    return write_json_atomic(path, dataclasses.asdict(record))


def seconds_so_far(record: RunRecord | None, run_dir: Path) -> float:
    """Wall time of a run's attempts: the record's, plus, for an attempt that was killed (still
    ``running``), the time from its start to its last checkpoint."""
    if record is None:
        return 0.0
    last = Path(run_dir) / "last.pt"
    if record.status != "running" or record.started_at is None or not last.is_file():
        return record.seconds
    return record.seconds + max(0.0, last.stat().st_mtime - record.started_at)


@dataclasses.dataclass(frozen=True)
class PlannedRunEntry:
    """One planned run as ``plan.json`` keeps it."""

    name: str
    run_dir: str
    epochs: int
    snapshot_of: str | None = None


@dataclasses.dataclass(frozen=True)
class PlannedCellEntry:
    """One cell: its fine-tuning run, the name of its pre-training (None: from scratch), the
    setting the paper's number is matched on, and whether the sweep's ``only`` selects it."""

    variant: str
    label_fraction: float
    seed: int
    pretrain: str | None
    finetune: PlannedRunEntry
    setting: dict[str, Any]
    selected: bool = True


@dataclasses.dataclass(frozen=True)
class VariantEntry:
    name: str
    axis_values: dict[str, Any]
    from_scratch: bool = False
    is_extra: bool = False


@dataclasses.dataclass(frozen=True)
class PlanDocument:
    """What collection, figures and reports read of a sweep (``plan.json``): no config needs to
    be resolved again, so a report works without the dataset."""

    name: str
    output_root: str
    dataset_root: str
    variants: tuple[VariantEntry, ...]
    pretrains: tuple[PlannedRunEntry, ...]
    cells: tuple[PlannedCellEntry, ...]
    title: str = ""
    benchmark: str | None = None
    axes: tuple[str, ...] = ()
    label_fractions: tuple[float, ...] = (1.0,)
    seeds: tuple[int, ...] = (1,)
    show_parameters: bool = False
    plot: PlotSpec | None = None
    paper: PaperComparison = dataclasses.field(default_factory=PaperComparison)
    format_version: int = PLAN_FORMAT_VERSION
    planned_at: float = 0.0


def _run_entry(run: PlannedRun) -> PlannedRunEntry:
    snapshot_of = run.snapshot_of.name if run.snapshot_of else None
    return PlannedRunEntry(run.name, str(run.run_dir), run.epochs, snapshot_of)


def plan_document(plan: SweepPlan) -> PlanDocument:
    spec = plan.spec
    pretrains = tuple(_run_entry(run) for run in plan.pretrains)
    cells = tuple(
        PlannedCellEntry(
            cell.variant.name,
            cell.label_fraction,
            cell.seed,
            cell.pretrain.name if cell.pretrain else None,
            _run_entry(cell.finetune),
            comparison_setting(cell),
            cell.selected,
        )
        for cell in plan.cells
    )
    variants = tuple(
        VariantEntry(v.name, dict(v.axis_values), v.from_scratch, v.is_extra) for v in plan.variants
    )
    return PlanDocument(
        spec.name,
        str(plan.output_root),
        str(plan.dataset_root),
        variants,
        pretrains,
        cells,
        title=spec.title,
        benchmark=plan.benchmark,
        axes=tuple(spec.axes),
        label_fractions=tuple(spec.label_fractions),
        seeds=tuple(spec.seeds),
        show_parameters=spec.show_parameters,
        plot=spec.plot,
        paper=spec.paper,
        planned_at=time.time(),
    )


def write_plan_files(plan: SweepPlan, spec_path: Path | None = None) -> PlanDocument:
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
    write_json_atomic(root / PLAN_FILE, to_plain(document))
    return document


def read_plan_document(output_root: Path) -> PlanDocument:
    """The ``plan.json`` of a sweep folder; errors name the file and the fix."""
    path = Path(output_root) / PLAN_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not a sweep folder (no {PLAN_FILE}); run `skeletonmae sweep SPEC.yaml` first"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = data.get("format_version") if isinstance(data, dict) else None
        if found != PLAN_FORMAT_VERSION:
            raise ValueError(f"plan format {found!r}, this version reads {PLAN_FORMAT_VERSION}")
        return from_mapping(PlanDocument, data, key="plan")
    except ValueError as error:  # also invalid JSON and ConfigError
        raise ValueError(
            f"{path}: {error}; re-run `skeletonmae sweep` on its sweep.yaml to rewrite it "
            "(finished runs are skipped)"
        ) from error
