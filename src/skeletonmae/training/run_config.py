"""``RunConfig``: everything one stage needs, loaded from YAML plus ``--set key=value`` overrides.

Sections: ``data`` (prepared dataset, splits, transform, batch, label fraction), ``model``
(``preset: NAME`` plus field overrides), ``mask``, ``optim``, ``schedule``, ``training``,
``finetune`` (pre-trained checkpoint) and ``output_dir``. The model's joints, persons, classes and
frames come from the dataset and the transform (:func:`skeletonmae.training.data_setup.bind_model_to_data`);
values written explicitly in the YAML must agree with them.

``data.batch_size`` is the batch of one optimiser step over all processes (the paper's 64); it is
split over ``WORLD_SIZE`` ranks and ``training.grad_accumulation`` micro-batches.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from skeletonmae.config import (
    RESULT_NEUTRAL,
    ConfigError,
    Override,
    apply_overrides,
    from_mapping,
    marked_fields,
    read_yaml_mapping,
    require,
)
from skeletonmae.contrastive.config import ContrastiveConfig
from skeletonmae.data.transforms import TransformConfig
from skeletonmae.models.config import MaskConfig, ModelConfig, preset
from skeletonmae.training.settings import OptimConfig, ScheduleConfig, TrainingConfig

# ModelConfig fields that are read from the dataset (and the transform) rather than chosen.
DATA_BOUND_MODEL_FIELDS: tuple[str, ...] = marked_fields(ModelConfig, "data_bound")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which prepared dataset to read and how to batch it.

    ``root`` holds one folder per split (``skeletonmae prepare`` writes it), or is a list of such
    datasets read as one (same layout and channels; unlabelled ones may join for pre-training).
    With a list, a split name reads that split of every dataset that has it, and ``NAME/SPLIT``
    (``NAME`` a dataset's folder name) reads one dataset's, e.g. ``val_split: nw-ucla/test``.
    ``root_weights`` (one per root; null: each dataset in proportion to its size) sets each
    dataset's share of an epoch's training samples; a share above its size repeats its samples,
    each draw with its own augmentation. ``val_split`` is what picks the best checkpoint (null:
    use the training metric). ``label_fraction`` < 1 trains the
    fine-tune / linear stages on a class-balanced subset drawn with ``label_seed``.
    ``pretrain_fraction`` < 1 (beyond the paper, for data-scaling studies) pre-trains on a random
    subset of the training split of that size, drawn with ``label_seed`` (nested: for one seed the
    25 % subset lies inside the 50 % one); the other stages ignore it.
    ``eval_batch_size`` is per process (null: the training micro-batch).
    """

    root: Path | tuple[Path, ...] | None = dataclasses.field(default=None, metadata=RESULT_NEUTRAL)
    root_weights: tuple[float, ...] | None = None
    train_split: str = "train"
    val_split: str | None = "test"
    test_split: str = "test"
    transform: TransformConfig = dataclasses.field(default_factory=TransformConfig)
    batch_size: int = 64
    eval_batch_size: int | None = dataclasses.field(default=None, metadata=RESULT_NEUTRAL)
    num_workers: int = dataclasses.field(default=2, metadata=RESULT_NEUTRAL)
    label_fraction: float = 1.0
    label_seed: int = 0
    pretrain_fraction: float = 1.0
    mmap: bool = dataclasses.field(default=True, metadata=RESULT_NEUTRAL)

    def __post_init__(self) -> None:
        require(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}; the paper uses 64")
        require(
            self.eval_batch_size is None or self.eval_batch_size >= 1,
            "eval_batch_size",
            f"must be >= 1 or null, got {self.eval_batch_size}",
        )
        require(self.num_workers >= 0, "num_workers", f"must be >= 0, got {self.num_workers}")
        require(
            0.0 < self.label_fraction <= 1.0,
            "label_fraction",
            f"must be in (0, 1], got {self.label_fraction}; e.g. 0.1 for 10 % of the labels",
        )
        require(
            0.0 < self.pretrain_fraction <= 1.0,
            "pretrain_fraction",
            f"must be in (0, 1], got {self.pretrain_fraction}; e.g. 0.25 pre-trains on a quarter of it",
        )
        require(self.label_seed >= 0, "label_seed", f"must be >= 0, got {self.label_seed}")
        if self.root_weights is not None:
            require(
                len(self.root_weights) == len(self.roots) and all(w > 0 for w in self.root_weights),
                "root_weights",
                f"got {list(self.root_weights)} for {len(self.roots)} root(s); give one positive "
                "weight per folder of data.root, or null for shares by size",
            )
            require(
                self.label_fraction == 1.0 and self.pretrain_fraction == 1.0,
                "root_weights",
                "cannot be combined with label_fraction or pretrain_fraction below 1; use one or the other",
            )
        for name in ("train_split", "test_split"):
            require(bool(getattr(self, name)), name, "must name a split folder, e.g. train")

    @property
    def roots(self) -> tuple[Path, ...]:
        """The dataset folders of ``root`` (one or several; empty when unset)."""
        if self.root is None:
            return ()
        return tuple(map(Path, self.root)) if isinstance(self.root, tuple) else (Path(self.root),)


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """``pretrained``: a pre-training checkpoint (``best.pt`` of a pretrain run) whose encoder
    initialises the classifier; null fine-tunes from scratch (the linear stage requires it).

    ``feature_norm`` (linear stage only): a non-affine ``BatchNorm1d`` over the frozen features
    before the linear head, as in MAMP's / MAE's linear probe; false keeps the plain head.

    ``layer_decay`` (finetune stage only, beyond the paper): layer-wise learning-rate decay in
    (0, 1]: the head learns at ``optim.lr``, each encoder block below it at ``layer_decay`` times
    the one above (BEiT / MAE / MAMP fine-tuning); 1 (default) gives every layer the same rate.

    ``frozen_encoder_epochs`` (finetune stage only, beyond the paper): linear probing, then
    fine-tuning (LP-FT, Kumar et al. 2022): for that many first epochs only the head learns,
    on the encoder's eval-mode features (learning rate 0, BatchNorm statistics kept); then the
    encoder joins, its rate ramping up over ``schedule.warmup_epochs``. 0 (default): off.
    """

    pretrained: Path | None = dataclasses.field(default=None, metadata=RESULT_NEUTRAL)
    feature_norm: bool = False
    layer_decay: float = 1.0
    frozen_encoder_epochs: int = 0

    def __post_init__(self) -> None:
        require(
            isinstance(self.layer_decay, (int, float)) and 0 < self.layer_decay <= 1,
            "layer_decay",
            f"got {self.layer_decay!r}; use a value in (0, 1] (1 = no decay; MAE-style fine-tuning: 0.75)",
        )
        require(
            isinstance(self.frozen_encoder_epochs, int) and self.frozen_encoder_epochs >= 0,
            "frozen_encoder_epochs",
            f"got {self.frozen_encoder_epochs!r}; use 0 (off) or a number of epochs below training.epochs",
        )


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run of one stage; defaults are the paper's (NTU-60 model, section 4.2 optimisation)."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    mask: MaskConfig = dataclasses.field(default_factory=MaskConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    finetune: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)
    output_dir: Path = dataclasses.field(default=Path("runs/default"), metadata=RESULT_NEUTRAL)
    # Pre-training method: null = SkeletonMAE; a section = CrosSCLR / AimCLR on the same encoder
    # (skeletonmae.contrastive, set by ``skeletonmae pretrain --method crossclr|aimclr``).
    contrastive: ContrastiveConfig | None = None


def _model_preset(name: str) -> ModelConfig:
    return preset(name)


MODEL_PRESETS = {ModelConfig: _model_preset}


def run_config_from_mapping(data: dict) -> RunConfig:
    """Build a :class:`RunConfig` from plain data (YAML / a checkpoint's ``config``)."""
    return from_mapping(RunConfig, data, presets=MODEL_PRESETS)


def load_run_config(
    path: str | os.PathLike[str] | None, overrides: Sequence[Override] = ()
) -> tuple[RunConfig, frozenset[str]]:
    """Read YAML (optional) + ``KEY=VALUE`` overrides.

    Returns the config and the data-bound model fields the user set explicitly (to be checked
    against the dataset by ``bind_model_to_data``). Errors name the file and the dotted key.
    """
    raw = read_yaml_mapping(path) if path is not None else {}
    raw = apply_overrides(raw, overrides)
    try:
        config = run_config_from_mapping(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}" if path is not None else str(error)) from error
    model_section = raw.get("model") or {}
    pinned = frozenset(k for k in model_section if k in DATA_BOUND_MODEL_FIELDS)
    return config, pinned
