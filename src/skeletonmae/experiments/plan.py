"""From a :class:`SweepSpec` to the runs it needs: one resolved RunConfig per stage run.

A *variant* is one setting of the ablation (one row of the paper's table before label fractions
and seeds). Grid variants are every combination of the axis values, in the order the axes and
values are written; their names join ``<short key>-<value>`` parts with ``__``
(``strategy-random__frame_ratio-0.4``), so run folders say what they hold. A spec without axes has
one grid variant, ``base``. Extra cells follow the grid, under their own names.

Every variant x label fraction x seed is a *cell*: one fine-tuning run, fed by the variant's one
pre-training run (cells whose resolved pre-training config is identical share it)::

    output_root/pretrain/<variant's pre-training name>/
    output_root/finetune/<variant>__labels-<fraction>__seed-<S>/

Pre-training runs that differ only in ``training.epochs`` are one run: the longest is trained
with ``training.snapshot_epochs`` set to the others' epoch counts, and each shorter one is that
run's ``epoch-NNNN.pt`` snapshot (``PlannedRun.snapshot_of``), so Figure 4's four points cost one
200-epoch trajectory.

Planning is deterministic and does not open the data (:func:`resolve_spec` finds the dataset
first): a sweep folder's ``sweep.yaml`` plans the same runs again. Setting errors (an unknown key,
a bad value) abort planning with the key named; a setting that does not fit the data (e.g. a
frame ratio that leaves a partial tuple) fails that run only, when its stage binds the data.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skeletonmae.config import ConfigError, marked_fields, to_plain
from skeletonmae.data.store import is_prepared_dataset, read_dataset_meta
from skeletonmae.experiments.paper import values_equal
from skeletonmae.experiments.spec import SweepSpec, flatten_settings, split_stage_key
from skeletonmae.training.run_config import RunConfig, load_run_config
from skeletonmae.training.settings import snapshot_name

BASE_VARIANT = "base"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")

# Settings that do not change a run's results (marked on their fields, see config.RESULT_NEUTRAL):
# a finished run is reused even if they changed.
RESULT_NEUTRAL_KEYS: tuple[str, ...] = marked_fields(RunConfig, "result_neutral")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One ablation setting.

    ``axis_values``: the dotted settings that define it and are applied (a grid cell's axis
    values, or an extra cell's own settings), keys possibly stage-prefixed; ``pretrain_name``:
    the parts of ``name`` that change pre-training; ``from_scratch``: fine-tune without it.
    """

    name: str
    axis_values: tuple[tuple[str, Any], ...]
    pretrain_name: str
    from_scratch: bool = False
    is_extra: bool = False

    def stage_settings(self, stage: str) -> list[tuple[str, Any]]:
        """The settings that apply to ``stage``, stage prefix removed, in order."""
        pairs = [split_stage_key(key) + (value,) for key, value in self.axis_values]
        return [(bare, value) for prefix, bare, value in pairs if prefix in (None, stage)]


def value_text(value: Any) -> str:
    """A setting value as short text: ``0.4``, ``random``, ``true``, ``64-128`` for lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "-".join(value_text(v) for v in value)
    return "null" if value is None else str(value)


def name_part(label: str, value: Any) -> str:
    """``label-value`` made safe for a folder name."""
    return _UNSAFE.sub("_", f"{label}-{value_text(value)}")


def axis_labels(keys: Sequence[str]) -> dict[str, str]:
    """Short label of each axis key: its last component, or the whole key when two axes share
    a last component (``pretrain.training.epochs`` and ``finetune.training.epochs``)."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: (short if last.count(short) == 1 else key) for key, short in zip(keys, last)}


def _grid_variants(spec: SweepSpec) -> list[Variant]:
    labels = axis_labels(list(spec.axes))

    def joined(pairs: Sequence[tuple[str, Any]]) -> str:
        return "__".join(name_part(labels[key], value) for key, value in pairs) or BASE_VARIANT

    variants = []
    for combination in itertools.product(*spec.axes.values()):
        pairs = tuple(zip(spec.axes, combination))
        pretrain = [(key, value) for key, value in pairs if split_stage_key(key)[0] != "finetune"]
        variants.append(Variant(joined(pairs), pairs, joined(pretrain)))
    return variants


def _matches(when: dict[str, Any], axis_values: dict[str, Any]) -> bool:
    return all(key in axis_values and values_equal(axis_values[key], value) for key, value in when.items())


def expand_variants(spec: SweepSpec) -> list[Variant]:
    """Grid variants (every axis combination, or ``base`` when there are no axes) followed by
    the extra cells. ``base`` is kept beside extra cells, so a label-fraction table with a
    from-scratch extra cell compares it against pre-training. ``spec.only`` keeps the variants
    whose settings include all of its key / value pairs."""
    variants = _grid_variants(spec)
    grid_names = {v.name for v in variants}
    for cell in spec.extra_cells:
        if cell.name in grid_names:
            raise ValueError(
                f"extra_cells: {cell.name!r} is also the name of a grid cell; rename the extra cell"
            )
        settings = tuple(flatten_settings(cell.settings).items())
        variants.append(Variant(cell.name, settings, cell.name, cell.from_scratch, is_extra=True))
    if not spec.only:
        return variants
    varied = {key for v in variants for key, _ in v.axis_values}
    unknown = [key for key in spec.only if key not in varied]
    if unknown:
        raise ValueError(
            f"only: {', '.join(unknown)} is set by none of the cells: only selects "
            "cells by the settings they vary (axes: "
            f"{', '.join(spec.axes) or 'none'}; extra cells' settings: "
            f"{', '.join(sorted(varied - set(spec.axes))) or 'none'})"
        )
    kept = [v for v in variants if _matches(spec.only, dict(v.axis_values))]
    if not kept:
        raise ValueError(
            f"only: {spec.only} matches none of the cells ({', '.join(v.name for v in variants)})"
        )
    return kept


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One stage run: its config (not yet bound to the data) and the data-bound model fields the
    settings set explicitly (``pinned``, checked against the data when it runs).

    A pre-training with ``snapshot_of`` is not trained by itself: it is the checkpoint that the
    longer run ``snapshot_of`` keeps at this run's epoch count (``run_dir`` is that run's)."""

    stage: str
    name: str
    run_dir: Path
    config: RunConfig
    pinned: frozenset[str]
    snapshot_of: PlannedRun | None = None

    def __str__(self) -> str:
        return f"{self.stage} {self.name}"

    @property
    def epochs(self) -> int:
        return self.config.training.epochs

    @property
    def checkpoint(self) -> Path:
        """The pre-trained weights a fine-tuning starts from: ``best.pt``, or the snapshot."""
        if self.snapshot_of is not None:
            return self.run_dir / snapshot_name(self.epochs)
        return self.run_dir / "best.pt"

    @property
    def trained(self) -> PlannedRun:
        """The run that is actually trained for this one (itself, or the run it is a snapshot of)."""
        return self.snapshot_of if self.snapshot_of is not None else self


@dataclasses.dataclass(frozen=True)
class PlannedCell:
    """One fine-tuning run of ``variant`` at ``label_fraction`` and ``seed``."""

    variant: Variant
    label_fraction: float
    seed: int
    pretrain: PlannedRun | None
    finetune: PlannedRun
    selected: bool = True  # False: outside the sweep's ``only`` (listed, not run)
    in_shard: bool = True  # False: another shard's (run by another process, in the table)


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """Every run of ``spec``, in plan order (``spec`` as :func:`resolve_spec` returns it)."""

    spec: SweepSpec
    pretrains: tuple[PlannedRun, ...]
    cells: tuple[PlannedCell, ...]

    @property
    def output_root(self) -> Path:
        return self.spec.output_root

    @property
    def selected_cells(self) -> tuple[PlannedCell, ...]:
        """The cells this sweep runs (those matching ``spec.only``, in its shard)."""
        return tuple(cell for cell in self.cells if cell.selected and cell.in_shard)

    @property
    def selected_pretrains(self) -> tuple[PlannedRun, ...]:
        """The pre-training runs that the selected cells need (and the runs their snapshots are
        taken from), in plan order."""
        runs = [cell.pretrain for cell in self.selected_cells if cell.pretrain]
        needed = {run.name for run in runs} | {run.trained.name for run in runs}
        return tuple(run for run in self.pretrains if run.name in needed)


def resolve_spec(spec: SweepSpec) -> SweepSpec:
    """``spec`` with absolute paths and the dataset checked: ``dataset.benchmark`` is its benchmark
    (the one recorded in its meta.json when the spec names none). This is the spec a sweep
    folder's sweep.yaml keeps."""
    root, benchmark = Path(spec.dataset.root), spec.dataset.benchmark
    if not is_prepared_dataset(root):
        raise FileNotFoundError(
            f"{root}: not a prepared dataset (no manifest.json or split folders); run "
            f"`skeletonmae prepare` first or fix dataset.root in the sweep spec"
        )
    recorded = read_dataset_meta(root).get("benchmark")
    if benchmark and recorded and benchmark != recorded:
        raise ValueError(
            f"dataset.benchmark is {benchmark!r} but {root} was prepared as "
            f"{recorded!r}; fix dataset.benchmark or dataset.root"
        )
    dataset = dataclasses.replace(spec.dataset, root=root.resolve(), benchmark=benchmark or recorded)
    return dataclasses.replace(spec, dataset=dataset, output_root=Path(spec.output_root).resolve())


def _stage_config(
    spec: SweepSpec, variant: Variant, stage: str, *extra: tuple[str, Any]
) -> tuple[RunConfig, frozenset[str]]:
    """The run config of one stage of a cell: the stage's YAML, its settings, the variant's
    settings, then the sweep's own keys (``extra``, the seeds last)."""
    settings = getattr(spec, stage)
    overrides = [*flatten_settings(settings.settings).items(), *variant.stage_settings(stage)]
    overrides += [("data.root", str(spec.dataset.root)), *extra]
    try:
        return load_run_config(settings.config, overrides)
    except ConfigError as error:
        raise ConfigError(f"cell {variant.name}, {stage}: {error}") from error


def result_settings(config: RunConfig, ignore: Sequence[str] = RESULT_NEUTRAL_KEYS) -> dict[str, Any]:
    """``{dotted key: value}`` of the settings of ``config`` that change its results."""
    return {k: v for k, v in flatten_settings(to_plain(config)).items() if k not in ignore}


def config_identity(config: RunConfig, ignore: Sequence[str] = RESULT_NEUTRAL_KEYS) -> str:
    """Canonical text of the result-relevant settings of ``config`` (for equality tests)."""
    return json.dumps(result_settings(config, ignore), sort_keys=True, default=str)


def _share_epochs(runs: list[PlannedRun]) -> list[PlannedRun]:
    """Runs that differ only in ``training.epochs`` become snapshots of the longest of them,
    which keeps a checkpoint at each of their epoch counts."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in runs:
        key = config_identity(run.config, RESULT_NEUTRAL_KEYS + ("training.epochs",))
        groups.setdefault(key, []).append(run)
    replaced: dict[str, PlannedRun] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        *shorter, longest = sorted(group, key=lambda r: r.epochs)
        training = dataclasses.replace(
            longest.config.training, snapshot_epochs=tuple(r.epochs for r in shorter)
        )
        longest = dataclasses.replace(longest, config=dataclasses.replace(longest.config, training=training))
        replaced[longest.name] = longest
        for run in shorter:
            replaced[run.name] = dataclasses.replace(run, run_dir=longest.run_dir, snapshot_of=longest)
    return [replaced.get(run.name, run) for run in runs]


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``0 <= K < N`` (Slurm's ``$SLURM_ARRAY_TASK_ID`` counts
    from the array's first index, so start arrays at 0: ``--array=0-3`` with N = 4)."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 0/4 (part K of N, K from 0)") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: K must be in 0..N-1 and N at least 1, e.g. 0/4 ... 3/4")
    return index, count


def _shard_group(cell: PlannedCell) -> str:
    """Cells that share a trained pre-training (or snapshots of one) belong to one shard."""
    if cell.pretrain is None:
        return f"finetune/{cell.finetune.name}"
    return f"pretrain/{cell.pretrain.trained.name}"


def shard_cells(cells: Sequence[PlannedCell], index: int, count: int) -> tuple[PlannedCell, ...]:
    """Mark every selected cell outside part ``index`` of ``count`` as another shard's.

    The selected cells are grouped by the pre-training they need (a run and its snapshots are
    one group; a from-scratch cell is its own group); groups are dealt round-robin in plan order, so
    no two shards train the same run and the split depends only on the spec and ``only``."""
    groups: dict[str, int] = {}
    for cell in cells:
        if cell.selected:
            groups.setdefault(_shard_group(cell), len(groups))
    return tuple(
        cell
        if not cell.selected or groups[_shard_group(cell)] % count == index
        else dataclasses.replace(cell, in_shard=False)
        for cell in cells
    )


def plan_sweep(spec: SweepSpec, shard: tuple[int, int] | None = None) -> SweepPlan:
    """Resolve every run of ``spec``. The plan holds every cell of the spec, those outside
    ``spec.only`` marked unselected and those of other shards (``shard = (K, N)``) not
    ``in_shard``, so that run names depend on neither."""
    variants = expand_variants(dataclasses.replace(spec, only={}))
    selected = {variant.name for variant in expand_variants(spec)}
    known: dict[str, PlannedRun] = {}  # by config_identity
    pretrain_of = {v.name: _plan_pretrain(spec, v, known).name for v in variants if not v.from_scratch}
    pretrains = _share_epochs(list(known.values()))
    by_name = {run.name: run for run in pretrains}
    cells = [
        _plan_cell(spec, variant, fraction, seed, by_name.get(pretrain_of.get(variant.name, "")))
        for variant in variants
        for seed in spec.seeds
        for fraction in spec.label_fractions
    ]
    cells = [dataclasses.replace(cell, selected=cell.variant.name in selected) for cell in cells]
    if shard is not None:
        cells = list(shard_cells(cells, *shard))
    return SweepPlan(spec, tuple(pretrains), tuple(cells))


def _plan_pretrain(spec: SweepSpec, variant: Variant, known: dict[str, PlannedRun]) -> PlannedRun:
    """The pre-training of ``variant``: a run already in ``known`` with the same result-relevant
    settings, or a new one (added), named after the variant and made unique."""
    config, pinned = _stage_config(spec, variant, "pretrain")
    identity = config_identity(config)
    if identity in known:
        return known[identity]
    name, counter, used = variant.pretrain_name, 2, {run.name for run in known.values()}
    while name in used:
        name, counter = f"{variant.pretrain_name}-{counter}", counter + 1
    run_dir = Path(spec.output_root) / "pretrain" / name
    config = dataclasses.replace(config, output_dir=run_dir)
    known[identity] = PlannedRun("pretrain", name, run_dir, config, pinned)
    return known[identity]


def _plan_cell(
    spec: SweepSpec, variant: Variant, fraction: float, seed: int, pretrain: PlannedRun | None
) -> PlannedCell:
    name = "__".join([variant.name, name_part("labels", fraction), name_part("seed", seed)])
    run_dir = Path(spec.output_root) / "finetune" / name
    config, pinned = _stage_config(
        spec,
        variant,
        "finetune",
        ("output_dir", str(run_dir)),
        ("data.label_fraction", fraction),
        # a from-scratch cell must not inherit the stage config's own pretrained checkpoint
        ("finetune.pretrained", None if pretrain is None else str(pretrain.checkpoint)),
        ("training.seed", seed),
        ("data.label_seed", seed),
    )
    finetune = PlannedRun("finetune", name, run_dir, config, pinned)
    return PlannedCell(variant, fraction, seed, pretrain, finetune)
