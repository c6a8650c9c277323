"""The run config: every setting of one run, one frozen dataclass per YAML section.

:class:`RunConfig` is read from YAML plus ``--set key=value`` overrides by :func:`load_run_config`
(the generic loader is :mod:`skeletonmae.config`). Sections: ``model`` (:class:`ModelConfig`,
``preset: NAME`` plus field overrides; joints, persons, classes and frames come from the data,
:func:`skeletonmae.data.binding.bind_model_to_data`), ``mask``, ``data`` (with ``transform``;
``data.batch_size`` is the batch of one optimiser step over all processes, split over
``WORLD_SIZE`` ranks and ``training.grad_accumulation`` micro-batches), ``optim``, ``schedule``,
``training`` (the paper's section 4.2 defaults), ``finetune`` and ``contrastive`` (null for
SkeletonMAE; CrosSCLR / AimCLR with their papers' defaults, docs/contrastive.md).

Every dataclass validates itself in ``__post_init__`` (once); errors name the dotted key, the bad
value and the fix. Settings removed after measured ablations: :data:`REMOVED_SETTINGS`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from skeletonmae.config import (
    DATA_BOUND,
    RESULT_NEUTRAL,
    ConfigError,
    FieldValueError,
    Override,
    apply_overrides,
    from_mapping,
    marked_fields,
    read_yaml_mapping,
    require,
)
from skeletonmae.masking import check_visible_frames, kept_frame_count, num_removed

# -- shared checks: the message names the bad value and, in ``fix``, what to use instead --------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_int(name: str, value: Any, minimum: int = 1, fix: str = "use a positive integer") -> None:
    require(_is_int(value) and value >= minimum, name, f"got {value!r}; {fix}")


def _require_ratio(name: str, value: Any, fix: str = "use a value in [0, 1)") -> None:
    require(_is_number(value) and 0.0 <= value < 1.0, name, f"got {value!r}; {fix}")


def _require_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    require(value in choices, name, f"got {value!r}; use one of {', '.join(map(repr, choices))}")


def _require_bool(name: str, value: Any) -> None:
    require(isinstance(value, bool), name, f"got {value!r}; use true or false")


def _require_at_least(name: str, value: Any, minimum: float, fix: str = "") -> None:
    require(value >= minimum, name, f"must be >= {minimum}, got {value}" + (f"; {fix}" if fix else ""))


def _require_fraction(name: str, value: Any, fix: str = "") -> None:
    require(0.0 < value <= 1.0, name, f"must be in (0, 1], got {value}" + (f"; {fix}" if fix else ""))


def _require_positive(name: str, value: float) -> None:
    require(value > 0, name, f"got {value}; expected a value > 0")


# -- model and mask ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSpec:
    """A run of ``num_blocks`` STTFormer blocks that all output ``channels`` features.

    The first block of a stage maps the previous stage's width (or the input embedding width, for
    the first stage) to ``channels``; ``qk_dim`` is the query/key width per attention head.
    STTFormer's NTU model is ``(64, 16, 2), (128, 32, 2), (256, 64, 4)``.
    """

    channels: int
    qk_dim: int
    num_blocks: int

    def __post_init__(self) -> None:
        require(
            _is_int(self.channels) and self.channels >= 2 and self.channels % 2 == 0,
            "channels",
            f"got {self.channels!r}; use an even positive integer (the slot embedding interleaves sin/cos)",
        )
        _require_int("qk_dim", self.qk_dim, fix="use a positive integer such as channels // 4")
        _require_int("num_blocks", self.num_blocks)


def _as_stage_specs(stages: Any) -> tuple[StageSpec, ...]:
    """Stages as a tuple of StageSpec; plain dicts (from ``asdict``, JSON or YAML) are rebuilt."""
    hint = "give a non-empty list of StageSpec(channels, qk_dim, num_blocks) or of dicts with those keys"
    require(isinstance(stages, (list, tuple)) and len(stages) >= 1, "stages", f"got {stages!r}; {hint}")
    specs = []
    for index, stage in enumerate(stages):
        if isinstance(stage, Mapping):
            try:
                stage = StageSpec(**stage)
            except TypeError as error:  # a missing or unknown key
                raise FieldValueError(f"stages[{index}]", f"{error}; {hint}") from None
        require(isinstance(stage, StageSpec), f"stages[{index}]", f"got {stage!r}; {hint}")
        specs.append(stage)
    return tuple(specs)


@dataclass(frozen=True)
class BlockSpec:
    """One block's widths: ``in_channels -> out_channels`` with ``qk_dim`` per head."""

    in_channels: int
    out_channels: int
    qk_dim: int


#: How encoder features ``(B, D, K, S)`` are pooled for a head or a probe: over tuples and slots
#: (``"mean"``, ``(B, D)``), or over the slots of each tuple with time kept (``"tuple"``, ``(B, D * K)``).
FEATURE_POOLS: tuple[str, ...] = ("mean", "tuple")

NTU_STAGES: tuple[StageSpec, ...] = (
    StageSpec(channels=64, qk_dim=16, num_blocks=2),
    StageSpec(channels=128, qk_dim=32, num_blocks=2),
    StageSpec(channels=256, qk_dim=64, num_blocks=4),
)


@dataclass(frozen=True)
class ModelConfig:
    """STTFormer encoder + classifier head + reconstruction decoder (NTU-60 defaults).

    Input layout everywhere: ``(N, C, T, V, M)`` with ``C = in_channels``, ``T = num_frames``,
    ``V = num_joints``, ``M = num_persons``. Frames are grouped into tuples of ``tuple_len``
    consecutive frames; a tuple has ``tuple_len * num_joints`` slots.
    """

    in_channels: int = field(default=3, metadata=DATA_BOUND)
    num_frames: int = field(default=120, metadata=DATA_BOUND)
    tuple_len: int = 6
    num_joints: int = field(default=25, metadata=DATA_BOUND)
    num_persons: int = field(default=2, metadata=DATA_BOUND)
    num_classes: int = field(default=60, metadata=DATA_BOUND)
    num_heads: int = 3
    stages: tuple[StageSpec, ...] = NTU_STAGES
    tuple_kernel: int = 3
    slot_kernel: int = 5
    use_slot_embedding: bool = True
    attention_dropout: float = 0.0
    head_dropout: float = 0.0
    decoder_width: int = 256
    decoder_depth: int = 9
    # Beyond the paper: on visible tokens, scale the attention's sum over the Sv
    # tokens of a tuple by S / Sv, so a block's output scale does not depend on how many tokens
    # are visible (1 on the full grid: STTFormer is unchanged).
    visible_attention_rescale: bool = False
    # Beyond the paper: what the classifier head sees. "mean" is STTFormer's average
    # over tuples and slots; "tuple" averages each tuple's slots only and concatenates the
    # K = T / L tuples in time order (a D * K input), so the head can read when things happen.
    head_pool: str = "mean"

    def __post_init__(self) -> None:
        for name in ("in_channels", "num_frames", "tuple_len", "num_joints", "num_persons", "num_heads"):
            _require_int(name, getattr(self, name))
        _require_int("decoder_depth", self.decoder_depth)
        _require_int(
            "num_classes",
            self.num_classes,
            minimum=0,
            fix="use the number of classes (0: unlabelled data, pre-training only)",
        )
        t, length = self.num_frames, self.tuple_len
        require(
            t % length == 0,
            "num_frames",
            f"{t} frames do not split into tuples of tuple_len={length}; set num_frames to a multiple "
            f"of {length} (e.g. {length * max(1, t // length)}) or change tuple_len",
        )
        object.__setattr__(self, "stages", _as_stage_specs(self.stages))
        for name in ("tuple_kernel", "slot_kernel"):
            value = getattr(self, name)
            require(
                _is_int(value) and value >= 1 and value % 2 == 1,
                name,
                f"got {value!r}; use an odd positive integer (same-size padding)",
            )
        _require_bool("use_slot_embedding", self.use_slot_embedding)
        _require_bool("visible_attention_rescale", self.visible_attention_rescale)
        _require_choice("head_pool", self.head_pool, FEATURE_POOLS)
        _require_ratio("attention_dropout", self.attention_dropout)
        _require_ratio("head_dropout", self.head_dropout)
        require(
            _is_int(self.decoder_width) and self.decoder_width >= 4 and self.decoder_width % 4 == 0,
            "decoder_width",
            f"got {self.decoder_width!r}; use a positive multiple of 4 (qk width is "
            "decoder_width // 4 and the 2-D sin-cos embedding needs 4 channel groups)",
        )

    @property
    def num_tuples(self) -> int:
        """Tuples per sequence, ``T / L``."""
        return self.num_frames // self.tuple_len

    @property
    def num_slots(self) -> int:
        """Slots per tuple, ``L * V`` (slot id = frame_in_tuple * V + joint)."""
        return self.tuple_len * self.num_joints

    @property
    def embed_channels(self) -> int:
        """Width of the input embedding (1x1 conv), the first stage's width."""
        return self.stages[0].channels

    @property
    def feature_dim(self) -> int:
        """Width of the encoder output, the last stage's width."""
        return self.stages[-1].channels

    def pooled_dim(self, pool: str | None = None) -> int:
        """Width of the features pooled by ``pool`` (default: the head's ``head_pool``)."""
        pool = self.head_pool if pool is None else pool
        _require_choice("pool", pool, FEATURE_POOLS)
        return self.feature_dim * (self.num_tuples if pool == "tuple" else 1)

    @property
    def decoder_qk_dim(self) -> int:
        """Query/key width per head in the decoder, STTFormer's ratio ``width / 4``."""
        return self.decoder_width // 4

    @property
    def block_specs(self) -> tuple[BlockSpec, ...]:
        """The encoder's blocks, stage by stage, with their input and output widths."""
        specs = []
        width = self.embed_channels
        for stage in self.stages:
            for _ in range(stage.num_blocks):
                specs.append(BlockSpec(width, stage.channels, stage.qk_dim))
                width = stage.channels
        return tuple(specs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Rebuild from ``dataclasses.asdict`` output (or YAML); unknown keys raise ValueError."""
        return from_mapping(cls, data, key="model")


@dataclass(frozen=True)
class MaskConfig:
    """Spatial-temporal masking of pre-training and what is reconstructed (paper defaults:
    alpha = beta = 0.5, random joints, coordinates, the encoder on visible tokens only).

    ``loss_on="all"`` (default) averages the reconstruction MSE over every token of the sequence,
    as the paper's Eq. 1 compares the whole original and reconstructed sequences;
    ``"masked"`` averages it over removed tokens only, as image MAE does.

    Options beyond the paper (see docs/model.md for the measurements):

    * ``target="motion"``: reconstruct ``x[t+1] - x[t]`` instead of coordinates (MAMP);
    * ``normalize_target``: standardise the target per (joint, tuple) patch, as MAE's
      normalised pixels;
    * ``motion_temperature``: motion-aware masking (MAMP): frames and joints are removed with
      probability ``softmax(motion / mean motion / tau)`` instead of uniformly (None: uniform).
    """

    frame_ratio: float = 0.5
    joint_ratio: float = 0.5
    strategy: Literal["random", "fixed"] = "random"
    loss_on: Literal["masked", "all"] = "all"
    target: Literal["coordinates", "motion"] = "coordinates"
    normalize_target: bool = False
    motion_temperature: float | None = None

    def __post_init__(self) -> None:
        for name in ("frame_ratio", "joint_ratio"):
            _require_ratio(name, getattr(self, name), fix="use a ratio in [0, 1) (the paper uses 0.4-0.6)")
        _require_choice("strategy", self.strategy, ("random", "fixed"))
        _require_choice("loss_on", self.loss_on, ("masked", "all"))
        _require_choice("target", self.target, ("coordinates", "motion"))
        _require_bool("normalize_target", self.normalize_target)
        tau = self.motion_temperature
        require(
            tau is None or (_is_number(tau) and tau > 0),
            "motion_temperature",
            f"got {tau!r}; use null (uniform masking) or a temperature > 0 (MAMP uses 0.75)",
        )

    def check_against(self, model: ModelConfig) -> None:
        """Raise ValueError unless this masking fits ``model``'s grid (whole visible tuples for
        the visible-token encoder, at least one visible joint, something to reconstruct when
        ``loss_on='masked'``)."""
        check_visible_frames(model.num_frames, self.frame_ratio, model.tuple_len)
        removed_joints = num_removed(self.joint_ratio, model.num_joints)
        if removed_joints >= model.num_joints:
            raise ValueError(
                f"joint_ratio={self.joint_ratio} removes every joint of {model.num_joints}; lower joint_ratio"
            )
        keeps_all_frames = kept_frame_count(model.num_frames, self.frame_ratio) == model.num_frames
        if keeps_all_frames and removed_joints == 0 and self.loss_on == "masked":
            raise ValueError(
                f"frame_ratio={self.frame_ratio} and joint_ratio={self.joint_ratio} remove no token, so "
                "loss_on='masked' has nothing to average; set loss_on='all' or raise a ratio"
            )


CPU_SMALL_STAGES: tuple[StageSpec, ...] = (
    StageSpec(channels=16, qk_dim=4, num_blocks=1),
    StageSpec(channels=24, qk_dim=6, num_blocks=1),
    StageSpec(channels=32, qk_dim=8, num_blocks=1),
)

# A CPU preset with real capacity: 64 wide x 3 blocks (64-d features), decoder 64 x 3.
CPU_BASE_STAGES: tuple[StageSpec, ...] = (StageSpec(channels=64, qk_dim=16, num_blocks=3),)

_NW_UCLA_GRID = dict(num_joints=20, num_persons=1, num_classes=10)
_PRESETS: dict[str, ModelConfig] = {
    "ntu60": ModelConfig(),
    "ntu120": ModelConfig(num_classes=120),
    # 60 frames is the smallest multiple of L = 6 for which alpha = 0.4 / 0.5 / 0.6 all keep
    # whole tuples (36 / 30 / 24 frames); NW-UCLA sequences average 39 frames (max 201).
    "nw-ucla": ModelConfig(num_frames=60, **_NW_UCLA_GRID),
    "cpu-small": ModelConfig(
        num_frames=60, stages=CPU_SMALL_STAGES, decoder_width=16, decoder_depth=2, **_NW_UCLA_GRID
    ),
    "cpu-base": ModelConfig(
        num_frames=30, stages=CPU_BASE_STAGES, decoder_width=64, decoder_depth=3, **_NW_UCLA_GRID
    ),
}
PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)


def preset(name: str, **overrides: Any) -> ModelConfig:
    """The named ``ModelConfig`` (``ntu60``, ``ntu120``, ``nw-ucla``, ``cpu-small``, ``cpu-base``)
    with field overrides (e.g. ``num_joints=20``; ``stages`` as StageSpecs or plain dicts).
    Unknown names or fields raise ValueError naming them."""
    if name not in _PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
    try:
        return dataclasses.replace(_PRESETS[name], **overrides)
    except TypeError as error:  # an unknown field
        fields = ", ".join(f.name for f in dataclasses.fields(ModelConfig))
        raise ValueError(f"overrides of preset {name!r}: {error}; valid fields are {fields}") from None


# -- data ----------------------------------------------------------------------------------------


STREAMS = ("joint", "bone", "motion", "bone_motion")


@dataclass(frozen=True)
class TransformConfig:
    """STTFormer's data settings (defaults) for the NTU benchmarks."""

    num_frames: int = 120
    crop_range: tuple[float, float] = (0.5, 1.0)
    min_crop_frames: int = 64
    test_crop: float = 0.95
    rotation: float = 0.3
    stream: str = "joint"
    rotation_axes: tuple[float, float, float] | None = None
    scale_range: tuple[float, float] = (1.0, 1.0)
    normalize_scale: bool = False
    minmax_normalize: bool = False
    align_facing: bool = False
    flip_prob: float = 0.0
    shear: float = 0.0

    def __post_init__(self) -> None:
        require(self.num_frames >= 1, "num_frames", "must be at least 1 (STTFormer: 120)")
        low, high = self.crop_range
        require(
            0 < low <= high <= 1,
            "crop_range",
            "must be (low, high) with 0 < low <= high <= 1 (STTFormer: 0.5, 1)",
        )
        require(self.min_crop_frames >= 1, "min_crop_frames", "must be at least 1 (STTFormer: 64)")
        require(0 < self.test_crop <= 1, "test_crop", "must be in (0, 1] (STTFormer: 0.95)")
        require(self.rotation >= 0, "rotation", "must be >= 0 radians (0 disables; STTFormer: 0.3)")
        require(self.stream in STREAMS, "stream", f"must be one of {STREAMS}")
        require(
            self.rotation_axes is None
            or (len(self.rotation_axes) == 3 and all(a >= 0 for a in self.rotation_axes)),
            "rotation_axes",
            "must be null or three angles >= 0 in radians (about x, y, z), e.g. [0.3, 1.0, 0.3]",
        )
        low, high = self.scale_range
        require(
            0 < low <= high,
            "scale_range",
            "must be (low, high) with 0 < low <= high, e.g. [0.8, 1.2]; [1, 1] disables random scaling",
        )
        require(0 <= self.flip_prob <= 1, "flip_prob", "must be in [0, 1] (0 disables the mirror flip)")
        require(0 <= self.shear < 1, "shear", "must be in [0, 1) (0 disables shearing; e.g. 0.2)")

    @property
    def random_scale(self) -> bool:
        low, high = self.scale_range
        return high > low or low != 1.0

    @property
    def draws_needed(self) -> int:
        """Uniform draws per sample a training transform reads (crop 2, angles 3, scale, flip,
        shear): one past the last one in use."""
        used = (True, self.random_scale, self.flip_prob > 0, self.shear > 0)
        return 5 + max(k for k, on in enumerate(used) if on)

    @property
    def max_angles(self) -> np.ndarray:
        """``(3,)`` largest rotation angle about x, y, z."""
        if self.rotation_axes is not None:
            return np.asarray(self.rotation_axes, dtype=np.float64)
        return np.full(3, self.rotation, dtype=np.float64)


@dataclass(frozen=True)
class DataConfig:
    """Which prepared dataset to read and how to batch it.

    ``root`` holds one folder per split (``skeletonmae prepare`` writes it), or is a list of such
    datasets read as one (same layout and channels; unlabelled ones may join for pre-training).
    With a list, a split name reads that split of every dataset that has it, and ``NAME/SPLIT``
    (``NAME`` a dataset's folder name) reads one dataset's, e.g. ``val_split: nw-ucla/test``.
    ``root_weights`` (one per root; null: each dataset in proportion to its size) sets each
    dataset's share of an epoch's training samples; a share above its size repeats its samples,
    each draw with its own augmentation. ``val_split`` is what picks the best checkpoint (null:
    use the training metric). ``label_fraction`` < 1 trains the fine-tune / linear stages on a
    class-balanced subset drawn with ``label_seed``. ``pretrain_fraction`` < 1 (beyond the paper,
    for data-scaling studies) pre-trains on a random subset of the training split, drawn with
    ``label_seed`` (nested: for one seed the 25 % subset lies inside the 50 % one).
    ``eval_batch_size`` is per process (null: the training micro-batch).
    """

    root: Path | tuple[Path, ...] | None = field(default=None, metadata=RESULT_NEUTRAL)
    root_weights: tuple[float, ...] | None = None
    train_split: str = "train"
    val_split: str | None = "test"
    test_split: str = "test"
    transform: TransformConfig = field(default_factory=TransformConfig)
    batch_size: int = 64
    eval_batch_size: int | None = field(default=None, metadata=RESULT_NEUTRAL)
    num_workers: int = field(default=2, metadata=RESULT_NEUTRAL)
    label_fraction: float = 1.0
    label_seed: int = 0
    pretrain_fraction: float = 1.0
    mmap: bool = field(default=True, metadata=RESULT_NEUTRAL)

    def __post_init__(self) -> None:
        _require_at_least("batch_size", self.batch_size, 1, "the paper uses 64")
        if self.eval_batch_size is not None:
            _require_at_least("eval_batch_size", self.eval_batch_size, 1, "or null")
        _require_at_least("num_workers", self.num_workers, 0)
        _require_fraction("label_fraction", self.label_fraction, "e.g. 0.1 for 10 % of the labels")
        _require_fraction("pretrain_fraction", self.pretrain_fraction, "e.g. 0.25 pre-trains on a quarter")
        _require_at_least("label_seed", self.label_seed, 0)
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


# -- optimiser, schedule, training loop ----------------------------------------------------------


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser. ``momentum`` is used by ``sgd`` only; ``grad_clip_norm`` None disables clipping."""

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = 0.005
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    grad_clip_norm: float | None = None

    def __post_init__(self) -> None:
        require(
            math.isfinite(self.lr) and self.lr > 0,
            "lr",
            f"must be a positive number, got {self.lr}; the paper uses 0.005",
        )
        _require_at_least("weight_decay", self.weight_decay, 0, "the paper uses 1e-4")
        require(
            all(0.0 <= b < 1.0 for b in self.betas),
            "betas",
            f"each beta must be in [0, 1), got {list(self.betas)}; e.g. [0.9, 0.999]",
        )
        require(0.0 <= self.momentum < 1.0, "momentum", f"must be in [0, 1), got {self.momentum}")
        require(
            self.grad_clip_norm is None or self.grad_clip_norm > 0,
            "grad_clip_norm",
            f"must be > 0 or null (no clipping), got {self.grad_clip_norm}",
        )


@dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule after a linear warm-up from ``warmup_start_factor * lr`` over
    ``warmup_epochs`` (0 disables it; fractions allowed).

    ``name: multistep`` (the paper's): decay by ``gamma`` at epoch ``milestones``.
    ``name: cosine``: half-cosine from ``lr`` down to ``lr * min_lr_factor`` over the rest of the
    run (``training.epochs``); ``milestones`` and ``gamma`` are ignored.
    """

    milestones: tuple[int, ...] = (60, 90, 110)
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    warmup_start_factor: float = 0.01
    name: Literal["multistep", "cosine"] = "multistep"
    min_lr_factor: float = 0.0

    def __post_init__(self) -> None:
        require(
            all(m > 0 for m in self.milestones) and list(self.milestones) == sorted(self.milestones),
            "milestones",
            f"must be increasing positive epochs, got {list(self.milestones)}; e.g. [60, 90, 110]",
        )
        _require_fraction("gamma", self.gamma)
        _require_at_least("warmup_epochs", self.warmup_epochs, 0)
        _require_fraction("warmup_start_factor", self.warmup_start_factor)
        require(
            self.name in ("multistep", "cosine"), "name", f"must be multistep or cosine, got {self.name!r}"
        )
        require(
            0.0 <= self.min_lr_factor <= 1.0,
            "min_lr_factor",
            f"must be in [0, 1] (final lr = lr * min_lr_factor), got {self.min_lr_factor}",
        )


def snapshot_name(epoch: int) -> str:
    """File name of the checkpoint kept at the end of ``epoch`` (``training.snapshot_epochs``)."""
    return f"epoch-{epoch:04d}.pt"


@dataclass(frozen=True)
class TrainingConfig:
    """Loop settings.

    ``checkpoint_every_steps`` > 0 also writes ``last.pt`` every that many optimiser steps inside
    an epoch (what makes a mid-epoch kill resumable); ``log_every_steps`` is the cadence at which
    the loss leaves the device (progress bar, non-finite check). ``limit_train_steps`` caps the
    optimiser steps per epoch (smoke runs); ``eval_every`` is in epochs.
    ``checkpoint_activations`` recomputes each encoder / decoder block's activations in the
    backward pass instead of keeping them (less memory, about one more forward pass of compute;
    gradients and BatchNorm statistics unchanged). ``snapshot_epochs`` also keeps the checkpoint
    of each of those epochs as ``epoch-NNNN.pt`` (:func:`snapshot_name`), so one long run gives
    the shorter schedules' checkpoints (a sweep's Figure 4 points).
    """

    epochs: int = 200
    seed: int = 1
    amp: Literal["none", "bf16", "fp16"] = "none"
    compile: bool = False
    checkpoint_activations: bool = False
    grad_accumulation: int = 1
    label_smoothing: float = 0.1
    eval_every: int = 1
    checkpoint_every_steps: int = field(default=0, metadata=RESULT_NEUTRAL)
    log_every_steps: int = field(default=20, metadata=RESULT_NEUTRAL)
    limit_train_steps: int | None = None
    sync_batchnorm: bool = False
    device: Literal["auto", "cpu", "cuda"] = field(default="auto", metadata=RESULT_NEUTRAL)
    progress_bar: bool = field(default=True, metadata=RESULT_NEUTRAL)
    snapshot_epochs: tuple[int, ...] = field(default=(), metadata=RESULT_NEUTRAL)

    def __post_init__(self) -> None:
        _require_at_least("epochs", self.epochs, 1, "the paper uses 200")
        object.__setattr__(self, "snapshot_epochs", tuple(self.snapshot_epochs))
        require(
            all(isinstance(e, int) and 1 <= e <= self.epochs for e in self.snapshot_epochs),
            "snapshot_epochs",
            f"got {list(self.snapshot_epochs)}; list epochs between 1 and training.epochs={self.epochs}",
        )
        _require_at_least("seed", self.seed, 0)
        _require_at_least("grad_accumulation", self.grad_accumulation, 1, "batches per optimiser step")
        require(
            0.0 <= self.label_smoothing < 1.0,
            "label_smoothing",
            f"must be in [0, 1), got {self.label_smoothing}; the paper uses 0.1",
        )
        _require_at_least("eval_every", self.eval_every, 1, "in epochs")
        _require_at_least("checkpoint_every_steps", self.checkpoint_every_steps, 0, "0 = only at epoch ends")
        _require_at_least("log_every_steps", self.log_every_steps, 1)
        if self.limit_train_steps is not None:
            _require_at_least("limit_train_steps", self.limit_train_steps, 1, "or null for whole epochs")


# -- contrastive baselines -----------------------------------------------------------------------


Method = Literal["crossclr", "aimclr"]
View = Literal["joint", "motion", "bone"]
TemporalCrop = Literal["pad", "resize"]

METHODS: tuple[str, ...] = ("crossclr", "aimclr")
VIEWS: tuple[str, ...] = ("joint", "motion", "bone")


@dataclass(frozen=True)
class AugmentationConfig:
    """Skeleton augmentations. ``normal`` = Shear + Crop (SkeletonCLR); ``extreme`` adds AimCLR's set.

    Attributes:
        shear_amplitude: off-diagonal shear entries are drawn from U(-a, a); 0 disables Shear.
        temporal_crop: ``pad`` = reflect-pad ``T // padding_ratio`` frames at both ends and crop T
            at a random start (the methods' Crop); ``resize`` = keep a random fraction in
            ``[crop_min_ratio, 1]`` of the frames and resize it back to T (linear interpolation).
        temporal_padding_ratio: the ``pad`` crop's ratio (6 in the papers); 0 disables the crop.
        crop_min_ratio: smallest kept fraction for the ``resize`` crop.
        spatial_flip_prob: probability of swapping left and right joints.
        rotate_main_max_degrees / rotate_minor_max_degrees: AimCLR's Rotate picks one main axis
            rotated by U(0, main) degrees; the other two axes by U(0, minor) degrees.
        noise_std / noise_prob: Gaussian noise on the coordinates, applied with this probability.
        blur_kernel / blur_sigma_min / blur_sigma_max / blur_prob: Gaussian blur over time.
        axis_mask_prob: probability of zeroing one random coordinate axis.
        temporal_flip_prob: probability of reversing time.
    """

    shear_amplitude: float = 0.5
    temporal_crop: TemporalCrop = "pad"
    temporal_padding_ratio: int = 6
    crop_min_ratio: float = 0.5
    spatial_flip_prob: float = 0.5
    rotate_main_max_degrees: float = 30.0
    rotate_minor_max_degrees: float = 1.0
    noise_std: float = 0.01
    noise_prob: float = 0.5
    blur_kernel: int = 15
    blur_sigma_min: float = 0.1
    blur_sigma_max: float = 2.0
    blur_prob: float = 0.5
    axis_mask_prob: float = 0.5
    temporal_flip_prob: float = 0.5

    def __post_init__(self) -> None:
        _require_at_least("shear_amplitude", self.shear_amplitude, 0, "0.5 in the papers, 0 disables Shear")
        _require_choice("temporal_crop", self.temporal_crop, ("pad", "resize"))
        padding = self.temporal_padding_ratio
        _require_at_least("temporal_padding_ratio", padding, 0, "6 in the papers, 0 disables the crop")
        _require_fraction("crop_min_ratio", self.crop_min_ratio)
        for name in ("spatial_flip_prob", "noise_prob", "blur_prob", "axis_mask_prob", "temporal_flip_prob"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, name, f"got {value}; expected a probability in [0, 1]")
        for name in ("rotate_main_max_degrees", "rotate_minor_max_degrees", "noise_std"):
            _require_at_least(name, getattr(self, name), 0)
        require(
            self.blur_kernel >= 1 and self.blur_kernel % 2 == 1,
            "blur_kernel",
            f"got {self.blur_kernel}; expected an odd size >= 1 (15 in AimCLR)",
        )
        _require_positive("blur_sigma_min", self.blur_sigma_min)
        require(
            self.blur_sigma_max >= self.blur_sigma_min,
            "blur_sigma_max",
            f"got {self.blur_sigma_max}; expected >= blur_sigma_min ({self.blur_sigma_min})",
        )


@dataclass(frozen=True)
class AttentionDropConfig:
    """AimCLR's energy-based attention-guided drop (EADM) on the encoder's last feature map.

    Attributes:
        threshold: features (joints, then channel-joint-time cells) whose energy attention is at
            least this are dropped (0.7 in AimCLR); the kept ones are rescaled to keep the mean.
        energy_lambda: the regulariser of the SimAM-style energy (1e-4).
    """

    threshold: float = 0.7
    energy_lambda: float = 1e-4

    def __post_init__(self) -> None:
        require(
            0.5 < self.threshold <= 1.0,
            "threshold",
            f"got {self.threshold}; expected a value in (0.5, 1] (0.7 in AimCLR; the attention is a "
            "sigmoid of a value >= 0.5, so lower thresholds drop everything)",
        )
        _require_positive("energy_lambda", self.energy_lambda)


@dataclass(frozen=True)
class ContrastiveConfig:
    """A MoCo-style contrastive pre-training run on the STTFormer encoder.

    Attributes:
        method: ``crossclr`` (one encoder pair per view, cross-view knowledge mining) or
            ``aimclr`` (one encoder pair, extreme augmentations, EADM, D3M, nearest-neighbour mining).
        projection_dim: width of the embedding the loss sees (128).
        mlp_projection: two-layer MLP head (hidden = encoder width) instead of one linear layer.
        queue_size: number of negative keys kept (32,768).
        momentum: key-encoder momentum (0.999).
        temperature: InfoNCE temperature (0.07).
        mining_start_epoch: first (0-based) epoch of AimCLR's nearest-neighbour mining or
            CrosSCLR's cross-view mining; before it the methods train with plain InfoNCE (+ D3M).
        topk: positives mined per query and per view (1 in both papers).
        views: CrosSCLR's views, each with its own query/key encoders and queue.
        cross_view_context: CrosSCLR's "context" term (similarity products of two views as extra
            logits); False gives the positives-only variant.
        export_view: the view whose query encoder is exported for fine-tuning (CrosSCLR), and the
            one stream AimCLR trains on (its papers train one model per stream).
    """

    method: Method = "aimclr"
    projection_dim: int = 128
    mlp_projection: bool = True
    queue_size: int = 32768
    momentum: float = 0.999
    temperature: float = 0.07
    mining_start_epoch: int = 150
    topk: int = 1
    views: tuple[View, ...] = ("joint", "motion", "bone")
    cross_view_context: bool = True
    export_view: View = "joint"
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)
    attention_drop: AttentionDropConfig = field(default_factory=AttentionDropConfig)

    def __post_init__(self) -> None:
        _require_choice("method", self.method, METHODS)
        for name in ("projection_dim", "queue_size", "temperature", "topk"):
            _require_positive(name, getattr(self, name))
        _require_ratio("momentum", self.momentum, fix="use a value in [0, 1) (0.999 in the papers)")
        _require_at_least("mining_start_epoch", self.mining_start_epoch, 0)
        require(
            self.topk < self.queue_size,
            "topk",
            f"got {self.topk}; expected fewer than queue_size ({self.queue_size})",
        )
        object.__setattr__(self, "views", tuple(self.views))
        require(
            bool(self.views)
            and all(v in VIEWS for v in self.views)
            and len(set(self.views)) == len(self.views),
            "views",
            f"got {self.views}; expected distinct names from {VIEWS}",
        )
        require(
            self.method != "crossclr" or len(self.views) >= 2,
            "views",
            f"got {self.views}; CrosSCLR mines knowledge across views, give at least two",
        )
        _require_choice("export_view", self.export_view, self.views)

    @property
    def model_views(self) -> tuple[str, ...]:
        """Views that get their own encoders: all ``views`` for CrosSCLR; AimCLR trains one stream,
        ``export_view``."""
        return self.views if self.method == "crossclr" else (self.export_view,)


# -- the run -------------------------------------------------------------------------------------


# ModelConfig fields that are read from the dataset (and the transform) rather than chosen.
DATA_BOUND_MODEL_FIELDS: tuple[str, ...] = marked_fields(ModelConfig, "data_bound")


@dataclass(frozen=True)
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

    pretrained: Path | None = field(default=None, metadata=RESULT_NEUTRAL)
    feature_norm: bool = False
    layer_decay: float = 1.0
    frozen_encoder_epochs: int = 0

    def __post_init__(self) -> None:
        require(
            _is_number(self.layer_decay) and 0 < self.layer_decay <= 1,
            "layer_decay",
            f"got {self.layer_decay!r}; use a value in (0, 1] (1 = no decay; MAE-style fine-tuning: 0.75)",
        )
        _require_int(
            "frozen_encoder_epochs",
            self.frozen_encoder_epochs,
            minimum=0,
            fix="use 0 (off) or a number of epochs below training.epochs",
        )


@dataclass(frozen=True)
class RunConfig:
    """One run of one stage; defaults are the paper's (NTU-60 model, section 4.2 optimisation)."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    output_dir: Path = field(default=Path("runs/default"), metadata=RESULT_NEUTRAL)
    # Pre-training method: null = SkeletonMAE; a section = CrosSCLR / AimCLR on the same encoder
    # (skeletonmae.contrastive, set by ``skeletonmae pretrain --method crossclr|aimclr``).
    contrastive: ContrastiveConfig | None = None


#: Settings that lost in measured ablations and were removed (docs/model.md), with the value that
#: means what the code still does: a config or checkpoint holding that value loads unchanged.
REMOVED_SETTINGS: dict[str, Any] = {
    "model.attention_map": "shared",
    "mask.encoder_input": "visible",
    "mask.frame_unit": "frame",
}


def _drop_removed_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` without the removed settings that hold their kept value; others raise."""
    data = dict(data)
    for dotted, kept in REMOVED_SETTINGS.items():
        section, name = dotted.split(".")
        values = data.get(section)
        if not isinstance(values, Mapping) or name not in values:
            continue
        if values[name] != kept:
            raise ConfigError(
                f"{dotted}={values[name]!r} was removed after it lost in a measured ablation "
                "(docs/model.md, 'What was tried, measured and dropped'); delete the key "
                f"(the code always does {dotted}={kept!r})"
            )
        data[section] = {k: v for k, v in values.items() if k != name}
    return data


def run_config_from_mapping(data: Mapping[str, Any]) -> RunConfig:
    """Build a :class:`RunConfig` from plain data (YAML / a checkpoint's ``config``)."""
    return from_mapping(RunConfig, _drop_removed_settings(data), presets={ModelConfig: preset})


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
