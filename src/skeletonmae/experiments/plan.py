"""From a :class:`SweepSpec` to the runs it needs: one resolved RunConfig per stage run.

Every variant x label fraction x seed is a *cell*: one fine-tuning run, fed by one pre-training
run. Cells whose resolved pre-training config is identical (the label fractions and seeds of a
variant, unless seeds apply to pre-training) share one pre-training folder::

    output_root/pretrain/<variant's pre-training name>[__seed-S]/
    output_root/finetune/<variant>__labels-<fraction>__seed-<S>/

With ``snapshot_pretraining`` (default), pre-training runs that differ only in
``training.epochs`` are one run: the longest is trained with ``training.snapshot_epochs`` set to
the others' epoch counts, and each shorter one is that run's ``epoch-NNNN.pt`` snapshot
(``PlannedRun.snapshot_of``), so Figure 4's four points cost one 200-epoch trajectory.

Setting errors (an unknown key, a bad value) abort planning with the key named. Planning does
not open the data: each stage binds its config to the dataset when it runs, so a setting that
does not fit the data (e.g. a frame ratio that leaves a partial tuple) fails that run only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skeletonmae.config import ConfigError, marked_fields, to_plain
from skeletonmae.data.store import is_prepared_dataset, read_dataset_meta
from skeletonmae.experiments.grid import Variant, expand_variants, name_part
from skeletonmae.experiments.paper import LABEL_FRACTION_KEY
from skeletonmae.experiments.spec import SweepSpec, flatten_settings
from skeletonmae.training.run_config import RunConfig, load_run_config
from skeletonmae.training.settings import snapshot_name

# Settings that do not change a run's results (marked on their fields, see config.RESULT_NEUTRAL):
# a finished run is reused even if they changed.
RESULT_NEUTRAL_KEYS: tuple[str, ...] = marked_fields(RunConfig, "result_neutral")


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
    spec: SweepSpec
    dataset_root: Path
    benchmark: str | None
    output_root: Path
    variants: tuple[Variant, ...]
    pretrains: tuple[PlannedRun, ...]
    cells: tuple[PlannedCell, ...]

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


def resolve_dataset(root: Path, benchmark: str | None) -> tuple[Path, str | None]:
    """The prepared dataset folder and its benchmark name (``root`` or ``root/benchmark``)."""
    root = Path(root)
    if not is_prepared_dataset(root) and benchmark and is_prepared_dataset(root / benchmark):
        root = root / benchmark
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
    return root.resolve(), benchmark or recorded


def _stage_config(
    spec: SweepSpec, variant: Variant, stage: str, seed: int, dataset_root: Path, *extra: tuple[str, Any]
) -> tuple[RunConfig, frozenset[str]]:
    """The run config of one stage of a cell: the stage's YAML, its settings, the variant's
    settings, then the sweep's own keys; with the data-bound model fields set explicitly."""
    settings = getattr(spec, stage)
    overrides = [*flatten_settings(settings.settings).items(), *variant.stage_settings(stage)]
    overrides += [("data.root", str(dataset_root)), *extra]
    if stage in spec.seed_stages:
        overrides.append(("training.seed", seed))
        if stage == "finetune":
            overrides.append(("data.label_seed", seed))
    try:
        return load_run_config(settings.config, overrides)
    except ConfigError as error:
        raise ConfigError(f"cell {variant.name}, {stage}: {error}") from error


def config_identity(config: RunConfig, ignore: Sequence[str] = RESULT_NEUTRAL_KEYS) -> str:
    """Canonical text of the result-relevant settings of ``config`` (for equality tests)."""
    flat = flatten_settings(to_plain(config))
    kept = {k: v for k, v in flat.items() if k not in ignore}
    return json.dumps(kept, sort_keys=True, default=str)


def comparison_setting(cell: PlannedCell) -> dict[str, Any]:
    """The values a paper number is matched on, in the sweep's key namespace."""
    setting: dict[str, Any] = dict(cell.variant.axis_values)
    if cell.pretrain is not None:
        config = cell.pretrain.config
        setting.update(
            {
                "mask.strategy": config.mask.strategy,
                "mask.frame_ratio": config.mask.frame_ratio,
                "mask.joint_ratio": config.mask.joint_ratio,
                "model.decoder_width": config.model.decoder_width,
                "model.decoder_depth": config.model.decoder_depth,
                "pretrain.training.epochs": config.training.epochs,
            }
        )
    setting[LABEL_FRACTION_KEY] = cell.label_fraction
    return setting


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
    dataset_root, benchmark = resolve_dataset(spec.dataset.root, spec.dataset.benchmark)
    output_root = Path(spec.output_root).resolve()
    variants = expand_variants(dataclasses.replace(spec, only={}))
    selected = {variant.name for variant in expand_variants(spec)}
    pretrain_by_identity: dict[str, PlannedRun] = {}
    pending: list[tuple[Variant, float, int, PlannedRun | None]] = []
    for variant in variants:
        for seed in spec.seeds:
            pretrain = None
            if not variant.from_scratch:
                pretrain = _plan_pretrain(
                    spec, variant, seed, dataset_root, output_root, pretrain_by_identity
                )
            pending += [(variant, fraction, seed, pretrain) for fraction in spec.label_fractions]
    pretrains = list(pretrain_by_identity.values())
    if spec.snapshot_pretraining:
        pretrains = _share_epochs(pretrains)
    by_name = {run.name: run for run in pretrains}
    cells = []
    for variant, fraction, seed, pretrain in pending:
        pretrain = by_name[pretrain.name] if pretrain is not None else None
        cell = _plan_finetune(spec, variant, fraction, seed, pretrain, dataset_root, output_root)
        cells.append(dataclasses.replace(cell, selected=variant.name in selected))
    if shard is not None:
        cells = list(shard_cells(cells, *shard))
    return SweepPlan(
        spec, dataset_root, benchmark, output_root, tuple(variants), tuple(pretrains), tuple(cells)
    )


def _plan_pretrain(
    spec: SweepSpec,
    variant: Variant,
    seed: int,
    dataset_root: Path,
    output_root: Path,
    known: dict[str, PlannedRun],  # by config_identity
) -> PlannedRun:
    config, pinned = _stage_config(spec, variant, "pretrain", seed, dataset_root)
    identity = config_identity(config)
    if identity in known:
        return known[identity]
    name = variant.pretrain_name(list(spec.axes))
    if "pretrain" in spec.seed_stages:
        name += "__" + name_part("seed", seed)
    unique, counter, used = name, 2, {run.name for run in known.values()}
    while unique in used:
        unique, counter = f"{name}-{counter}", counter + 1
    run_dir = output_root / "pretrain" / unique
    run = PlannedRun("pretrain", unique, run_dir, dataclasses.replace(config, output_dir=run_dir), pinned)
    known[identity] = run
    return run


def _plan_finetune(
    spec: SweepSpec,
    variant: Variant,
    fraction: float,
    seed: int,
    pretrain: PlannedRun | None,
    dataset_root: Path,
    output_root: Path,
) -> PlannedCell:
    name = "__".join([variant.name, name_part("labels", fraction), name_part("seed", seed)])
    run_dir = output_root / "finetune" / name
    # a from-scratch cell must not inherit the stage config's own pretrained checkpoint
    pretrained = None if pretrain is None else str(pretrain.checkpoint)
    config, pinned = _stage_config(
        spec,
        variant,
        "finetune",
        seed,
        dataset_root,
        ("output_dir", str(run_dir)),
        ("data.label_fraction", fraction),
        ("finetune.pretrained", pretrained),
    )
    return PlannedCell(
        variant, fraction, seed, pretrain, PlannedRun("finetune", name, run_dir, config, pinned)
    )
