"""One way from a checkpoint to a run: checkpoint -> config (+ overrides) -> data binding.

Used by evaluation, inference, the reconstruction pictures and sweeps, so a saved run is read
the same way everywhere and its errors always name the checkpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from skeletonmae.checkpoints import CheckpointError, load_checkpoint
from skeletonmae.config import ConfigError, apply_overrides
from skeletonmae.data.binding import DatasetInfo, bind_model_to_data, dataset_info, open_split
from skeletonmae.data.store import SplitArrays
from skeletonmae.run_config import DATA_BOUND_MODEL_FIELDS, RunConfig, run_config_from_mapping

__all__ = ["CLASSIFIER_STAGES", "LoadedRun", "bind_run", "load_run", "run_config_of"]

CLASSIFIER_STAGES = ("finetune", "linear")  # the stages whose checkpoints hold a trained head


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """A checkpoint's ``payload``, its ``stage`` and run ``config`` (overrides applied; bound to
    the data of ``split`` when one was asked for, with that split's ``arrays`` and ``info``)."""

    path: Path
    payload: Mapping[str, Any]
    stage: str
    config: RunConfig
    split: str | None = None
    arrays: SplitArrays | None = None
    info: DatasetInfo | None = None


def run_config_of(path: Path, payload: Mapping[str, Any], overrides: Sequence[str] = ()) -> RunConfig:
    """The run config saved in a checkpoint, patched with ``KEY=VALUE`` overrides. The saved
    ``data.root_weights`` belong to the saved roots: overrides that move ``data.root`` without
    giving new weights drop them (evaluating a multi-dataset pre-training on one dataset)."""
    try:
        saved = payload["config"]
        data = apply_overrides(saved, overrides)
        before, after = saved.get("data") or {}, data.get("data") or {}
        moved = after.get("root") != before.get("root")
        if moved and after.get("root_weights") == before.get("root_weights"):
            data["data"] = {**after, "root_weights": None}
        return run_config_from_mapping(data)
    except KeyError:
        raise CheckpointError(f"{path}: no saved run config; it was not written by skeletonmae") from None
    except (ConfigError, ValueError, TypeError) as error:
        if overrides:
            raise
        raise CheckpointError(
            f"{path}: its saved config does not fit this skeletonmae version ({error}); load it "
            "with the skeletonmae version that trained it, or train again"
        ) from error


def load_run(
    checkpoint: str | Path,
    overrides: Sequence[str] = (),
    *,
    stages: Collection[str] | None = None,
    wrong_stage: str = "",
    split: str | None = None,
) -> LoadedRun:
    """Read ``checkpoint``; refuse a stage outside ``stages`` (``wrong_stage`` says what to pass
    instead); with ``split`` (``"test"`` or a name; ``""`` = the config's ``data.test_split``),
    open it and bind the model config to its data."""
    path = Path(checkpoint)
    payload = load_checkpoint(path)
    stage = str(payload.get("stage"))
    if stages is not None and stage not in stages:
        raise ValueError(f"{path}: a {stage!r} checkpoint {wrong_stage or f'is not one of {sorted(stages)}'}")
    run = LoadedRun(path, payload, stage, run_config_of(path, payload, overrides))
    return run if split is None else bind_run(run, split)


def bind_run(run: LoadedRun, split: str = "") -> LoadedRun:
    """``run`` with the split ``split`` (``""``: ``data.test_split``) opened and the model config
    bound to its data; a model that does not fit names the checkpoint and the split folder."""
    config = run.config
    split = split or config.data.test_split
    arrays = open_split(config.data, split)
    info = dataset_info(arrays)
    try:
        # a pre-training has no classifier head: its class count need not match the data's
        pinned = set(DATA_BOUND_MODEL_FIELDS) - ({"num_classes"} if run.stage == "pretrain" else set())
        config = bind_model_to_data(config, info, pinned=pinned)
    except ValueError as error:
        raise ValueError(f"{run.path}: its model does not fit {arrays.folder} ({error})") from error
    return dataclasses.replace(run, config=config, split=split, arrays=arrays, info=info)
