"""The sweep folder: what a sweep writes besides its run folders, and the per-run records::

    output_root/
      sweep.yaml                                the resolved spec; planning it again gives the runs
      records/{pretrain,finetune}/<name>.json   one RunRecord per run
      pretrain/<name>/  finetune/<name>/        ordinary run folders
      results.md  results.csv  <plot>.png       the collected table

A record is written atomically when a run starts (``running``) and when it ends, so it survives a
kill: a ``running`` record's next attempt adds the time up to the run's last checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Literal

from skeletonmae.atomic import write_json_atomic
from skeletonmae.config import dump_yaml
from skeletonmae.experiments.plan import SweepPlan, plan_sweep
from skeletonmae.experiments.spec import SweepSpec, load_sweep_spec

SPEC_FILE = "sweep.yaml"


@dataclasses.dataclass
class RunRecord:
    """A run's outcome: its status (with ``reason`` when failed), best metric and wall time."""

    stage: str
    name: str
    run_dir: str
    status: Literal["complete", "failed", "running"]
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
        return RunRecord(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(
            f"{path}: not a sweep run record ({error}); delete it (not its run) and re-run"
        ) from error


def write_record(path: Path, record: RunRecord) -> Path:
    """Write ``record`` atomically (a non-finite metric as null)."""
    return write_json_atomic(path, dataclasses.asdict(record))


def seconds_so_far(record: RunRecord | None, run_dir: Path) -> float:
    """Wall time of a run's attempts: the record's, plus, for an attempt that was killed (still
    ``running``), the time from its start to its last checkpoint."""
    last = Path(run_dir) / "last.pt"
    if record is None or record.status != "running" or record.started_at is None or not last.is_file():
        return record.seconds if record else 0.0
    return record.seconds + max(0.0, last.stat().st_mtime - record.started_at)


def write_spec_file(spec: SweepSpec, spec_path: Path | None = None) -> Path:
    """Write the resolved ``spec`` as ``sweep.yaml``: it re-runs and re-plans the sweep from anywhere."""
    path = Path(spec.output_root) / SPEC_FILE
    return dump_yaml(spec, path, header=f"skeletonmae sweep {spec_path or path}")


def read_sweep_plan(output_root: Path) -> SweepPlan:
    """The plan of a sweep folder, re-made from its ``sweep.yaml`` (the dataset need not be there)."""
    path = Path(output_root) / SPEC_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not a sweep folder (no {SPEC_FILE}); run `skeletonmae sweep SPEC.yaml` first"
        )
    return plan_sweep(load_sweep_spec(path))
