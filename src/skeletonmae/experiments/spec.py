"""Sweep spec: one YAML file describing a grid of pre-train -> fine-tune runs (:class:`SweepSpec`;
its YAML form, key by key, is in docs/experiments.md and configs/sweeps/).

Setting keys are RunConfig dotted keys. A key starting with ``pretrain.`` or ``finetune.`` applies
to that stage only; any other key applies to both (so the fine-tuned encoder always has the shape
it was pre-trained with). The sweep itself sets ``output_dir``, ``data.root``,
``data.label_fraction``, ``finetune.pretrained`` and the seeds; those keys are refused elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from skeletonmae.config import (
    ConfigError,
    apply_overrides,
    from_mapping,
    read_yaml_mapping,
    require,
)
from skeletonmae.experiments.paper import LABEL_FRACTION_KEY, PAPER_TABLES
from skeletonmae.training.run_config import FinetuneConfig

STAGES: tuple[str, ...] = ("pretrain", "finetune")

# RunConfig keys the sweep sets itself (per stage, without the stage prefix).
SWEEP_OWNED_KEYS: tuple[str, ...] = ("output_dir", "data.root", "data.label_fraction", "finetune.pretrained")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_DOTTED_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


# Fields of RunConfig's own ``finetune`` section: ``finetune.layer_decay`` names one of them.
FINETUNE_SECTION_FIELDS = frozenset(f.name for f in dataclasses.fields(FinetuneConfig))


def split_stage_key(key: str) -> tuple[str | None, str]:
    """``"pretrain.training.epochs"`` -> ``("pretrain", "training.epochs")``;
    ``"mask.frame_ratio"`` -> ``(None, "mask.frame_ratio")`` (both stages). A key of RunConfig's
    ``finetune`` section (``"finetune.layer_decay"``) is that key, for the fine-tuning stage:
    ``("finetune", "finetune.layer_decay")``."""
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


def _check_setting_keys(keys: Sequence[str], where: str) -> None:
    for key in keys:
        require(
            bool(_DOTTED_KEY.match(key)),
            where,
            f"{key!r} is not a dotted RunConfig key such as mask.frame_ratio",
        )
        _, bare = split_stage_key(key)
        require(
            bare not in SWEEP_OWNED_KEYS,
            where,
            f"{key!r} is set by the sweep itself; use dataset.root, label_fractions, seeds "
            "or output_root instead",
        )


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A prepared dataset (``skeletonmae prepare`` output). ``benchmark`` (e.g. ``ntu60-xsub``,
    ``nw-ucla``) defaults to the one recorded in the dataset's meta.json, and must match it."""

    root: Path
    benchmark: str | None = None

    def __post_init__(self) -> None:
        require(
            str(self.root) not in ("", "."), "root", "name the prepared dataset folder, e.g. data/nw-ucla"
        )


@dataclasses.dataclass(frozen=True)
class StageSettings:
    """Base settings of one stage: an optional RunConfig YAML plus settings over it."""

    config: Path | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        flat = flatten_settings(self.settings)
        _check_setting_keys([k for k in flat if "." in k], "settings")
        for key in flat:
            require(
                key.split(".")[0] not in STAGES or split_stage_key(key)[1] == key,
                "settings",
                f"{key!r}: stage prefixes belong in axes / extra_cells; here "
                "the stage is already given by the section",
            )


@dataclasses.dataclass(frozen=True)
class ExtraCell:
    """A named cell outside the grid (e.g. only-joint masking, or a from-scratch baseline)."""

    name: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    from_scratch: bool = False

    def __post_init__(self) -> None:
        require(
            bool(_NAME.match(self.name)),
            "name",
            f"{self.name!r}: use letters, digits and . _ + - (it names run folders)",
        )
        _check_setting_keys(list(flatten_settings(self.settings)), "settings")


@dataclasses.dataclass(frozen=True)
class PaperComparison:
    """Which paper table to show beside ours (on our benchmark when the paper has it, else
    NTU-60 X-Sub). ``equivalents`` translates our values of a setting key to the paper's scale,
    e.g. ``{model.decoder_width: {16: 256}}`` for a scaled-down model."""

    table: str | None = None
    equivalents: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        require(
            self.table is None or self.table in PAPER_TABLES,
            "table",
            f"{self.table!r}; choose one of {', '.join(PAPER_TABLES)} or null",
        )
        for key in self.equivalents:
            require(
                bool(_DOTTED_KEY.match(key)),
                "equivalents",
                f"{key!r} is not a dotted setting key such as model.decoder_width",
            )


@dataclasses.dataclass(frozen=True)
class PlotSpec:
    """Plot top-1 against axis ``x`` (one line per combination of the other axes), or against
    the label fraction in % when ``x`` is ``finetune.data.label_fraction`` (the key paper tables
    are matched on)."""

    x: str
    title: str = ""
    x_label: str = ""


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A whole sweep (docs/experiments.md shows every key). Seeds apply to the fine-tunings (the
    training seed and the label subset); the cells of a variant share one pre-training."""

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
    paper: PaperComparison = dataclasses.field(default_factory=PaperComparison)
    only: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        require(
            bool(_NAME.match(self.name)),
            "name",
            f"{self.name!r}: use letters, digits and . _ + - (it names the sweep)",
        )
        _check_setting_keys(list(self.axes), "axes")
        for key, values in self.axes.items():
            require(
                isinstance(values, list) and len(values) >= 1,
                "axes",
                f"{key}: give a non-empty list of values, e.g. [0.4, 0.5]",
            )
            texts = [repr(v) for v in values]
            require(len(set(texts)) == len(texts), "axes", f"{key}: values repeat in {values}")
        names = [cell.name for cell in self.extra_cells]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        require(not duplicates, "extra_cells", f"names must be unique; {duplicates} repeat")
        require(
            len(self.seeds) >= 1
            and len(set(self.seeds)) == len(self.seeds)
            and all(s >= 0 for s in self.seeds),
            "seeds",
            f"give distinct non-negative integers, got {list(self.seeds)}",
        )
        require(
            len(self.label_fractions) >= 1
            and len(set(self.label_fractions)) == len(self.label_fractions)
            and all(0.0 < f <= 1.0 for f in self.label_fractions),
            "label_fractions",
            f"give distinct fractions in (0, 1], e.g. [0.05, 0.1]; got {list(self.label_fractions)}",
        )
        _check_setting_keys(list(self.only), "only")
        require(
            self.plot is None
            or self.plot.x in self.axes
            or (self.plot.x == LABEL_FRACTION_KEY and len(self.label_fractions) > 1),
            "plot.x",
            f"{self.plot.x if self.plot else ''!r} is not an axis; use one of "
            f"{', '.join(self.axes) or '(no axes defined)'}, or {LABEL_FRACTION_KEY} "
            f"with two or more label_fractions",
        )


def _normalise_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    raw = dict(raw)
    if isinstance(raw.get("dataset"), (str, os.PathLike)):
        raw["dataset"] = {"root": raw["dataset"]}
    return raw


def sweep_spec_from_mapping(raw: Mapping[str, Any], base_dir: Path | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec`; relative stage ``config`` paths are taken from ``base_dir``."""
    spec = from_mapping(SweepSpec, _normalise_raw(raw))
    if base_dir is None:
        return spec
    stages = {}
    for stage in STAGES:
        settings: StageSettings = getattr(spec, stage)
        if settings.config is not None and not settings.config.is_absolute():
            settings = dataclasses.replace(settings, config=(base_dir / settings.config).resolve())
        stages[stage] = settings
    return dataclasses.replace(spec, **stages)


def load_sweep_spec(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> SweepSpec:
    """Read a sweep YAML plus ``KEY=VALUE`` overrides of its plain keys (e.g.
    ``output_root=/tmp/x``, ``dataset.root=data/nw``, ``seeds=[1,2]``); errors name the file."""
    path = Path(path)
    raw = apply_overrides(_normalise_raw(read_yaml_mapping(path)), overrides)
    try:
        return sweep_spec_from_mapping(raw, base_dir=path.parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
