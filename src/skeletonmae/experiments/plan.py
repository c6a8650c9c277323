"""From a :class:`SweepSpec` to the runs it needs: one resolved RunConfig per stage run.

A *variant* is a row of the paper's table before label fractions and seeds: an axis combination
(``strategy-random__frame_ratio-0.4``; ``base`` without axes) or an extra cell. Every variant x
label fraction x seed is a *cell*: one fine-tuning in ``finetune/<variant>__labels-<f>__seed-<s>/``
from a pre-training in ``pretrain/<name>/``, shared by the cells whose pre-training configs are the
same. Planning does not open the data: a setting unfit for the data fails its run only.
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
from skeletonmae.experiments.spec import SweepSpec, flatten_settings, split_stage_key
from skeletonmae.run_config import RunConfig, load_run_config, snapshot_name

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")

# Settings that do not change a run's results (marked on their fields, see config.RESULT_NEUTRAL):
# a finished run is reused even if they changed.
RESULT_NEUTRAL_KEYS: tuple[str, ...] = marked_fields(RunConfig, "result_neutral")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One ablation setting. ``axis_values``: the dotted settings that define it (a grid cell's
    axis values or an extra cell's settings, keys possibly stage-prefixed); ``pretrain_name``: the
    parts of ``name`` that change pre-training; ``from_scratch``: fine-tune without it."""

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


def expand_variants(spec: SweepSpec) -> list[Variant]:
    """Grid variants (every axis combination, or ``base`` when there are no axes) followed by
    the extra cells (``base`` stays beside them: a from-scratch cell compares against it)."""
    labels = axis_labels(list(spec.axes))

    def joined(pairs: Sequence[tuple[str, Any]]) -> str:
        return "__".join(name_part(labels[key], value) for key, value in pairs) or "base"

    variants = []
    for combination in itertools.product(*spec.axes.values()):
        pairs = tuple(zip(spec.axes, combination))
        pretrain = [(key, value) for key, value in pairs if split_stage_key(key)[0] != "finetune"]
        variants.append(Variant(joined(pairs), pairs, joined(pretrain)))
    grid_names = {v.name for v in variants}
    for cell in spec.extra_cells:
        if cell.name in grid_names:
            raise ValueError(f"extra_cells: {cell.name!r} is also a grid cell's name; rename it")
        settings = tuple(flatten_settings(cell.settings).items())
        variants.append(Variant(cell.name, settings, cell.name, cell.from_scratch, is_extra=True))
    return variants


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One stage run: its config (not yet bound to the data) and the data-bound model fields the
    settings set explicitly (``pinned``, checked against the data when it runs). A pre-training
    with ``snapshot_of`` is the checkpoint that longer run keeps at this run's epoch count."""

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
        return self.run_dir / (snapshot_name(self.epochs) if self.snapshot_of is not None else "best.pt")

    @property
    def trained(self) -> PlannedRun:
        """The run that is actually trained for this one (itself, or the run it is a snapshot of)."""
        return self.snapshot_of if self.snapshot_of is not None else self


@dataclasses.dataclass(frozen=True)
class PlannedCell:
    """One fine-tuning run of ``variant`` at ``label_fraction`` and ``seed``; ``in_shard`` is
    False for another shard's cell (run by another process, listed in the table)."""

    variant: Variant
    label_fraction: float
    seed: int
    pretrain: PlannedRun | None
    finetune: PlannedRun
    in_shard: bool = True


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """Every run of ``spec``, in plan order (``spec`` as :func:`resolve_spec` returns it)."""

    spec: SweepSpec
    pretrains: tuple[PlannedRun, ...]
    cells: tuple[PlannedCell, ...]

    @property
    def selected_cells(self) -> tuple[PlannedCell, ...]:
        """The cells this process runs (all, or those of its shard)."""
        return tuple(cell for cell in self.cells if cell.in_shard)

    @property
    def selected_pretrains(self) -> tuple[PlannedRun, ...]:
        """The pre-trainings the shard's cells need (and the runs their snapshots come from)."""
        runs = [cell.pretrain for cell in self.selected_cells if cell.pretrain]
        needed = {run.name for run in runs} | {run.trained.name for run in runs}
        return tuple(run for run in self.pretrains if run.name in needed)


def resolve_spec(spec: SweepSpec) -> SweepSpec:
    """``spec`` with absolute paths and the dataset checked; ``dataset.benchmark`` defaults to the
    one in the dataset's meta.json. A sweep folder's sweep.yaml keeps this spec."""
    root, benchmark = Path(spec.dataset.root), spec.dataset.benchmark
    if not is_prepared_dataset(root):
        raise FileNotFoundError(
            f"{root}: not a prepared dataset (no manifest.json or split folders); run "
            f"`skeletonmae prepare` first or fix dataset.root in the sweep spec"
        )
    recorded = read_dataset_meta(root).get("benchmark")
    if benchmark and recorded and benchmark != recorded:
        raise ValueError(f"dataset.benchmark is {benchmark!r} but {root} was prepared as {recorded!r}")
    dataset = dataclasses.replace(spec.dataset, root=root.resolve(), benchmark=benchmark or recorded)
    return dataclasses.replace(spec, dataset=dataset, output_root=Path(spec.output_root).resolve())


def _stage_config(
    spec: SweepSpec, variant: Variant, stage: str, own: dict[str, Any] | None = None
) -> tuple[RunConfig, frozenset[str]]:
    """The run config of one stage of a cell: the stage's YAML, its settings, the variant's
    settings, then the keys the sweep sets itself (``own``)."""
    settings = getattr(spec, stage)
    overrides = [*flatten_settings(settings.settings).items(), *variant.stage_settings(stage)]
    overrides += [("data.root", str(spec.dataset.root)), *(own or {}).items()]
    try:
        return load_run_config(settings.config, overrides)
    except ConfigError as error:
        raise ConfigError(f"cell {variant.name}, {stage}: {error}") from error


def result_settings(config: RunConfig, ignore: Sequence[str] = RESULT_NEUTRAL_KEYS) -> dict[str, Any]:
    """``{dotted key: value}`` of the settings of ``config`` that change its results."""
    return {k: v for k, v in flatten_settings(to_plain(config)).items() if k not in ignore}


def _identity(config: RunConfig, ignore: Sequence[str] = RESULT_NEUTRAL_KEYS) -> str:
    return json.dumps(result_settings(config, ignore), sort_keys=True, default=str)


def _share_epochs(runs: list[PlannedRun]) -> list[PlannedRun]:
    """Runs that differ only in ``training.epochs`` become snapshots of the longest of them, which
    keeps a checkpoint at each of their epoch counts (Figure 4's points cost one trajectory)."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in runs:
        groups.setdefault(_identity(run.config, RESULT_NEUTRAL_KEYS + ("training.epochs",)), []).append(run)
    replaced: dict[str, PlannedRun] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        *shorter, longest = sorted(group, key=lambda r: r.epochs)
        snapshots = tuple(r.epochs for r in shorter)
        training = dataclasses.replace(longest.config.training, snapshot_epochs=snapshots)
        longest = dataclasses.replace(longest, config=dataclasses.replace(longest.config, training=training))
        replaced[longest.name] = longest
        for run in shorter:
            replaced[run.name] = dataclasses.replace(run, run_dir=longest.run_dir, snapshot_of=longest)
    return [replaced.get(run.name, run) for run in runs]


def shard_cells(cells: Sequence[PlannedCell], index: int, count: int) -> tuple[PlannedCell, ...]:
    """Mark every cell outside part ``index`` of ``count`` as another shard's. Cells are grouped by
    the pre-training they need (a run and its snapshots are one group, a from-scratch cell its own)
    and groups dealt round-robin in plan order: no two shards train the same run."""

    def group(cell: PlannedCell) -> str:
        return f"pretrain/{cell.pretrain.trained.name}" if cell.pretrain else f"finetune/{cell.finetune.name}"

    groups: dict[str, int] = {}
    for cell in cells:
        groups.setdefault(group(cell), len(groups))
    return tuple(dataclasses.replace(cell, in_shard=groups[group(cell)] % count == index) for cell in cells)


def plan_sweep(spec: SweepSpec, shard: tuple[int, int] | None = None) -> SweepPlan:
    """Resolve every run of ``spec``; with ``shard = (K, N)`` the cells of other shards are
    marked, not dropped, so that run names and the table do not depend on the shard."""
    variants = expand_variants(spec)
    known: dict[str, PlannedRun] = {}  # by result-relevant settings
    pretrain_of = {v.name: _plan_pretrain(spec, v, known).name for v in variants if not v.from_scratch}
    pretrains = {run.name: run for run in _share_epochs(list(known.values()))}
    cells = [
        _plan_cell(spec, variant, fraction, seed, pretrains.get(pretrain_of.get(variant.name, "")))
        for variant in variants
        for seed in spec.seeds
        for fraction in spec.label_fractions
    ]
    return SweepPlan(spec, tuple(pretrains.values()), shard_cells(cells, *shard) if shard else tuple(cells))


def _plan_pretrain(spec: SweepSpec, variant: Variant, known: dict[str, PlannedRun]) -> PlannedRun:
    """The pre-training of ``variant``: a run already in ``known`` with the same result-relevant
    settings, or a new one (added), named after the variant and made unique."""
    config, pinned = _stage_config(spec, variant, "pretrain")
    identity = _identity(config)
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
    # a from-scratch cell must not inherit the stage config's own pretrained checkpoint
    checkpoint = None if pretrain is None else str(pretrain.checkpoint)
    own = {"output_dir": str(run_dir), "data.label_fraction": fraction, "finetune.pretrained": checkpoint}
    own |= {"training.seed": seed, "data.label_seed": seed}
    config, pinned = _stage_config(spec, variant, "finetune", own)
    finetune = PlannedRun("finetune", name, run_dir, config, pinned)
    return PlannedCell(variant, fraction, seed, pretrain, finetune)
