"""Sweep spec: one YAML file describing a grid of pre-train -> fine-tune runs and the paper's numbers
to print beside ours (every key in docs/experiments.md).

Setting keys are RunConfig dotted keys. A key starting with ``pretrain.`` or ``finetune.`` applies
to that stage only; any other key to both (so the fine-tuned encoder has the shape it was
pre-trained with). Keys the sweep sets itself (:data:`SWEEP_OWNED_KEYS`, the seeds) are refused.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from skeletonmae.config import ConfigError, apply_overrides, from_mapping, read_yaml_mapping, require
from skeletonmae.run_config import FinetuneConfig

STAGES: tuple[str, ...] = ("pretrain", "finetune")

# RunConfig keys the sweep sets itself (per stage, without the stage prefix).
SWEEP_OWNED_KEYS: tuple[str, ...] = ("output_dir", "data.root", "data.label_fraction", "finetune.pretrained")

#: The sweep key of the fine-tuning label fraction (Table 5's numbers are matched on it).
LABEL_FRACTION_KEY = "finetune.data.label_fraction"

# Fields of RunConfig's own ``finetune`` section: ``finetune.layer_decay`` names one of them.
FINETUNE_SECTION_FIELDS = frozenset(f.name for f in dataclasses.fields(FinetuneConfig))

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def split_stage_key(key: str) -> tuple[str | None, str]:
    """``"pretrain.training.epochs"`` -> ``("pretrain", "training.epochs")``;
    ``"mask.frame_ratio"`` -> ``(None, "mask.frame_ratio")`` (both stages); a key of RunConfig's
    ``finetune`` section -> ``("finetune", "finetune.layer_decay")``."""
    head, _, rest = key.partition(".")
    if head == "finetune" and rest.split(".")[0] in FINETUNE_SECTION_FIELDS:
        return "finetune", key
    if head in STAGES and rest:
        return head, rest
    return None, key


def flatten_settings(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested and/or dotted mapping -> ``{dotted key: leaf value}`` (lists stay leaves)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten_settings(value, full))
        else:
            flat[full] = value
    return flat


def _check_setting_keys(keys: Iterable[str], where: str) -> None:
    for key in keys:
        require(
            split_stage_key(key)[1] not in SWEEP_OWNED_KEYS,
            where,
            f"{key!r} is set by the sweep itself; use dataset.root, label_fractions, seeds "
            "or output_root instead",
        )


def _unique(values: Sequence[Any]) -> bool:
    return len(set(values)) == len(values)


def _check_name(name: str, what: str) -> None:
    require(bool(_NAME.match(name)), "name", f"{name!r}: use letters, digits and . _ + - (it names {what})")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A prepared dataset (``skeletonmae prepare`` output). ``benchmark`` (e.g. ``ntu60-xsub``,
    ``nw-ucla``) defaults to the one recorded in the dataset's meta.json, and must match it."""

    root: Path
    benchmark: str | None = None


@dataclasses.dataclass(frozen=True)
class StageSettings:
    """Base settings of one stage: an optional RunConfig YAML plus settings over it."""

    config: Path | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_setting_keys(flatten_settings(self.settings), "settings")


@dataclasses.dataclass(frozen=True)
class ExtraCell:
    """A named cell outside the grid (e.g. only-joint masking, or a from-scratch baseline)."""

    name: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    from_scratch: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "run folders")
        _check_setting_keys(flatten_settings(self.settings), "settings")


@dataclasses.dataclass(frozen=True)
class PaperNumber:
    """One published top-1 accuracy (%) and the setting it was measured at, in sweep keys
    (``mask.strategy``, ``pretrain.training.epochs``, ``finetune.data.label_fraction``, ...);
    a key it does not name matches any value."""

    top1: float
    setting: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PaperColumn:
    """The paper's numbers printed beside ours: ``about`` says which table and fixed setting they
    come from, ``benchmark`` where they were measured (``Δ`` is shown only when ours is the same).
    ``equivalents`` translates our values of a key to the paper's scale, e.g.
    ``{model.decoder_width: {16: 256}}`` for a scaled-down model."""

    benchmark: str = ""
    about: str = ""
    numbers: tuple[PaperNumber, ...] = ()
    equivalents: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        require(bool(self.benchmark) or not self.numbers, "benchmark", "name where the numbers were measured")


@dataclasses.dataclass(frozen=True)
class PlotSpec:
    """Top-1 against axis ``x`` (a line per combination of the other axes) or the % of labels."""

    x: str
    title: str = ""
    x_label: str = ""


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A whole sweep. Seeds apply to the fine-tunings (the training seed and the label subset);
    the cells of a variant share one pre-training."""

    name: str
    dataset: DatasetSpec
    output_root: Path
    title: str = ""
    pretrain: StageSettings = dataclasses.field(default_factory=StageSettings)
    finetune: StageSettings = dataclasses.field(default_factory=StageSettings)
    axes: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    extra_cells: tuple[ExtraCell, ...] = ()
    seeds: tuple[int, ...] = (1,)
    label_fractions: tuple[float, ...] = (1.0,)
    show_parameters: bool = False
    plot: PlotSpec | None = None
    paper: PaperColumn = dataclasses.field(default_factory=PaperColumn)

    def __post_init__(self) -> None:
        _check_name(self.name, "the sweep")
        _check_setting_keys(self.axes, "axes")
        for key, values in self.axes.items():
            distinct = values and _unique([repr(v) for v in values])
            require(distinct, "axes", f"{key}: give a non-empty list of distinct values, e.g. [0.4, 0.5]")
        names = [cell.name for cell in self.extra_cells]
        require(_unique(names), "extra_cells", f"names must be unique; got {names}")
        seeds, fractions = self.seeds, self.label_fractions
        require(seeds and _unique(seeds) and min(seeds) >= 0, "seeds", f"distinct integers >= 0: {seeds}")
        require(
            fractions and _unique(fractions) and all(0 < f <= 1 for f in fractions),
            "label_fractions",
            f"give distinct fractions in (0, 1], e.g. [0.05, 0.1]; got {list(fractions)}",
        )
        require(
            self.plot is None
            or self.plot.x in self.axes
            or (self.plot.x == LABEL_FRACTION_KEY and len(fractions) > 1),
            "plot.x",
            f"{self.plot.x if self.plot else ''!r} is not an axis; use one of "
            f"{', '.join(self.axes) or '(no axes defined)'}, or {LABEL_FRACTION_KEY} "
            "with two or more label_fractions",
        )


def _normalise_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    raw = dict(raw)
    if isinstance(raw.get("dataset"), (str, os.PathLike)):
        raw["dataset"] = {"root": raw["dataset"]}
    return raw


def sweep_spec_from_mapping(raw: Mapping[str, Any]) -> SweepSpec:
    return from_mapping(SweepSpec, _normalise_raw(raw))


def load_sweep_spec(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> SweepSpec:
    """Read a sweep YAML plus ``KEY=VALUE`` overrides of its keys (``seeds=[1,2]``); errors name the file."""
    path = Path(path)
    raw = apply_overrides(_normalise_raw(read_yaml_mapping(path)), overrides)
    for stage in STAGES:  # a stage's config is relative to the spec's folder
        if isinstance(raw.get(stage), dict) and raw[stage].get("config"):
            raw[stage]["config"] = str((path.parent / raw[stage]["config"]).resolve())
    try:
        return sweep_spec_from_mapping(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
