"""The run config: every setting of one run, one frozen dataclass per YAML section.

A run is described by :class:`RunConfig`, read from YAML plus ``--set key=value`` overrides by
:func:`load_run_config` (the generic loader is :mod:`skeletonmae.config`):

* ``model`` (:class:`ModelConfig`, ``preset: NAME`` plus field overrides): the STTFormer encoder
  (stages of blocks), the input grid (frames, tuple length, joints, persons), the classifier head
  and the reconstruction decoder; :func:`preset` names ``ntu60``, ``ntu120``, ``nw-ucla``,
  ``cpu-small``, ``cpu-base``. The model's joints, persons, classes and frames come from the
  dataset and the transform (:func:`skeletonmae.data.binding.bind_model_to_data`); values written
  explicitly in the YAML must agree with them.
* ``mask`` (:class:`MaskConfig`): the spatial-temporal masking of pre-training and its target;
* ``data`` (:class:`DataConfig`, with ``transform``: :class:`TransformConfig`): the prepared
  dataset(s), splits, batch, label fraction and STTFormer's feeder settings. ``data.batch_size``
  is the batch of one optimiser step over all processes (the paper's 64), split over
  ``WORLD_SIZE`` ranks and ``training.grad_accumulation`` micro-batches;
* ``optim``, ``schedule``, ``training`` (:class:`OptimConfig`, :class:`ScheduleConfig`,
  :class:`TrainingConfig`): the paper's section 4.2 defaults (Adam, lr 0.005, MultiStep 60/90/110,
  200 epochs, label smoothing 0.1);
* ``finetune`` (:class:`FinetuneConfig`): the pre-trained checkpoint and how it is fine-tuned;
* ``contrastive`` (:class:`ContrastiveConfig`, null for SkeletonMAE): CrosSCLR / AimCLR on the
  same encoder, with their papers' defaults (docs/contrastive.md).

Every dataclass validates itself in ``__post_init__`` (once); errors name the dotted key and the
fix. Settings that lost in measured ablations and were removed are listed in
:data:`skeletonmae.config.REMOVED_SETTINGS`.
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
    Override,
    apply_overrides,
    from_mapping,
    marked_fields,
    read_yaml_mapping,
    require,
)
from skeletonmae.masking import check_visible_frames, kept_frame_count, num_removed

# ----------------------------------------------------------------------------------------------
# model and mask
# ----------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
            f"got {self.channels!r}; use an even positive integer (the slot "
            "embedding interleaves sin/cos channels)",
        )
        require(
            _is_int(self.qk_dim) and self.qk_dim >= 1,
            "qk_dim",
            f"got {self.qk_dim!r}; use a positive integer such as channels // 4",
        )
        require(
            _is_int(self.num_blocks) and self.num_blocks >= 1,
            "num_blocks",
            f"got {self.num_blocks!r}; use a positive integer",
        )


def _as_stage_specs(stages: Any) -> tuple[StageSpec, ...]:
    """Stages as a tuple of StageSpec; plain dicts (from ``asdict``, JSON or YAML) are rebuilt."""
    hint = (
        "give a non-empty list of StageSpec(channels, qk_dim, num_blocks) or of dicts with exactly those keys"
    )
    require(isinstance(stages, (list, tuple)) and len(stages) >= 1, "stages", f"got {stages!r}; {hint}")
    specs = []
    for index, stage in enumerate(stages):
        if isinstance(stage, Mapping):
            unknown = sorted(set(stage) - {"channels", "qk_dim", "num_blocks"})
            missing = sorted({"channels", "qk_dim", "num_blocks"} - set(stage))
            problems = ([f"unknown keys {unknown}"] if unknown else []) + (
                [f"missing keys {missing}"] if missing else []
            )
            require(not problems, f"stages[{index}]", f"{', '.join(problems)}; {hint}")
            stage = StageSpec(**stage)
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
        for name in (
            "in_channels",
            "num_frames",
            "tuple_len",
            "num_joints",
            "num_persons",
            "num_heads",
            "decoder_depth",
        ):
            value = getattr(self, name)
            require(_is_int(value) and value >= 1, name, f"got {value!r}; use a positive integer")
        require(
            _is_int(self.num_classes) and self.num_classes >= 0,
            "num_classes",
            f"got {self.num_classes!r}; use the number of classes (0: unlabelled data, pre-training only)",
        )
        require(
            self.num_frames % self.tuple_len == 0,
            "num_frames",
            f"{self.num_frames} frames do not split into tuples of tuple_len="
            f"{self.tuple_len}; set num_frames to a multiple of {self.tuple_len} "
            f"(e.g. {self.tuple_len * max(1, self.num_frames // self.tuple_len)}) "
            "or change tuple_len",
        )
        object.__setattr__(self, "stages", _as_stage_specs(self.stages))
        for name in ("tuple_kernel", "slot_kernel"):
            value = getattr(self, name)
            require(
                _is_int(value) and value >= 1 and value % 2 == 1,
                name,
                f"got {value!r}; use an odd positive integer (same-size padding)",
            )
        for name in ("use_slot_embedding", "visible_attention_rescale"):
            require(
                isinstance(getattr(self, name), bool), name, f"got {getattr(self, name)!r}; use true or false"
            )
        require(
            self.head_pool in FEATURE_POOLS,
            "head_pool",
            f"got {self.head_pool!r}; use one of {list(FEATURE_POOLS)}",
        )
        for name in ("attention_dropout", "head_dropout"):
            value = getattr(self, name)
            require(
                isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0,
                name,
                f"got {value!r}; use a value in [0, 1)",
            )
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
        require(pool in FEATURE_POOLS, "pool", f"got {pool!r}; use one of {list(FEATURE_POOLS)}")
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

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (``dataclasses.asdict``)."""
        return dataclasses.asdict(self)


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
            value = getattr(self, name)
            require(
                isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0,
                name,
                f"got {value!r}; use a ratio in [0, 1) (the paper uses 0.4-0.6)",
            )
        choices = {
            "strategy": ("random", "fixed"),
            "loss_on": ("masked", "all"),
            "target": ("coordinates", "motion"),
        }
        for name, allowed in choices.items():
            require(
                getattr(self, name) in allowed,
                name,
                f"got {getattr(self, name)!r}; use one of {', '.join(map(repr, allowed))}",
            )
        require(
            isinstance(self.normalize_target, bool),
            "normalize_target",
            f"got {self.normalize_target!r}; use true or false",
        )
        tau = self.motion_temperature
        require(
            tau is None or (isinstance(tau, (int, float)) and not isinstance(tau, bool) and tau > 0),
            "motion_temperature",
            f"got {tau!r}; use null (uniform masking) or a temperature > 0 (MAMP uses 0.75)",
        )

    def check_against(self, model: ModelConfig) -> None:
        """Raise ValueError unless this masking fits ``model``'s grid (whole visible tuples for
        the visible-token encoder, at least one visible joint, something to reconstruct when
        ``loss_on='masked'``)."""
        check_visible_frames(model.num_frames, self.frame_ratio, model.tuple_len)
        if num_removed(self.joint_ratio, model.num_joints) >= model.num_joints:
            raise ValueError(
                f"joint_ratio={self.joint_ratio} removes every joint of {model.num_joints}; lower joint_ratio"
            )
        masks_nothing = (
            kept_frame_count(model.num_frames, self.frame_ratio) == model.num_frames
            and num_removed(self.joint_ratio, model.num_joints) == 0
        )
        if masks_nothing and self.loss_on == "masked":
            raise ValueError(
                f"frame_ratio={self.frame_ratio} and joint_ratio="
                f"{self.joint_ratio} remove no token, so loss_on='masked' has "
                "nothing to average; set loss_on='all' or raise a ratio"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskConfig:
        """Rebuild from a plain dict; unknown keys raise ValueError."""
        return from_mapping(cls, data, key="mask")


CPU_SMALL_STAGES: tuple[StageSpec, ...] = (
    StageSpec(channels=16, qk_dim=4, num_blocks=1),
    StageSpec(channels=24, qk_dim=6, num_blocks=1),
    StageSpec(channels=32, qk_dim=8, num_blocks=1),
)

# A CPU preset with real capacity: 64 wide x 3 blocks (64-d features), decoder 64 x 3.
CPU_BASE_STAGES: tuple[StageSpec, ...] = (StageSpec(channels=64, qk_dim=16, num_blocks=3),)

_PRESETS: dict[str, ModelConfig] = {
    "ntu60": ModelConfig(),
    "ntu120": ModelConfig(num_classes=120),
    # 60 frames is the smallest multiple of L = 6 for which alpha = 0.4 / 0.5 / 0.6 all keep
    # whole tuples (36 / 30 / 24 frames); NW-UCLA sequences average 39 frames (max 201).
    "nw-ucla": ModelConfig(num_frames=60, num_joints=20, num_persons=1, num_classes=10),
    "cpu-small": ModelConfig(
        num_frames=60,
        num_joints=20,
        num_persons=1,
        num_classes=10,
        stages=CPU_SMALL_STAGES,
        decoder_width=16,
        decoder_depth=2,
    ),
    "cpu-base": ModelConfig(
        num_frames=30,
        num_joints=20,
        num_persons=1,
        num_classes=10,
        stages=CPU_BASE_STAGES,
        decoder_width=64,
        decoder_depth=3,
    ),
}
PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)


def preset(name: str, **overrides: Any) -> ModelConfig:
    """The named ``ModelConfig`` with field overrides (e.g. ``num_joints=20, num_classes=10``).

    Names: ``ntu60``, ``ntu120``, ``nw-ucla``, ``cpu-small``, ``cpu-base``. Unknown names or fields raise
    ValueError naming them; ``stages`` may be given as StageSpecs or as plain dicts.
    """
    if name not in _PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
    base = _PRESETS[name]
    if not overrides:
        return base
    data = dataclasses.asdict(base)
    unknown = sorted(set(overrides) - set(data))
    if unknown:
        raise ValueError(
            f"unknown ModelConfig field {unknown[0]!r} in overrides of preset "
            f"{name!r}; valid fields are {', '.join(data)}"
        )
    data.update(overrides)
    return ModelConfig.from_dict(data)


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# optimiser, schedule, training loop
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
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
        require(
            self.weight_decay >= 0,
            "weight_decay",
            f"must be >= 0, got {self.weight_decay}; the paper uses 1e-4",
        )
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


@dataclasses.dataclass(frozen=True)
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
        require(0 < self.gamma <= 1, "gamma", f"must be in (0, 1], got {self.gamma}")
        require(
            self.warmup_epochs >= 0,
            "warmup_epochs",
            f"must be >= 0, got {self.warmup_epochs}",
        )
        require(
            0 < self.warmup_start_factor <= 1,
            "warmup_start_factor",
            f"must be in (0, 1], got {self.warmup_start_factor}",
        )
        require(
            self.name in ("multistep", "cosine"),
            "name",
            f"must be multistep or cosine, got {self.name!r}",
        )
        require(
            0.0 <= self.min_lr_factor <= 1.0,
            "min_lr_factor",
            f"must be in [0, 1] (final lr = lr * min_lr_factor), got {self.min_lr_factor}",
        )


def snapshot_name(epoch: int) -> str:
    """File name of the checkpoint kept at the end of ``epoch`` (``training.snapshot_epochs``)."""
    return f"epoch-{epoch:04d}.pt"


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Loop settings.

    ``checkpoint_every_steps`` > 0 also writes ``last.pt`` every that many optimiser steps inside
    an epoch (what makes a mid-epoch kill resumable); ``log_every_steps`` is the cadence at which
    the loss leaves the device (progress bar, non-finite check). ``limit_train_steps`` caps the
    optimiser steps per epoch (smoke runs); ``eval_every`` is in epochs.
    ``checkpoint_activations`` recomputes each encoder / decoder block's activations in the
    backward pass instead of keeping them (less memory for large batches on small GPUs, about one
    more forward pass of compute; gradients and BatchNorm statistics unchanged).
    ``snapshot_epochs`` also keeps the checkpoint of each of those epochs as
    ``epoch-NNNN.pt`` (:func:`snapshot_name`), so one long run gives the shorter schedules'
    checkpoints (a sweep's Figure 4 points).
    """

    epochs: int = 200
    seed: int = 1
    amp: Literal["none", "bf16", "fp16"] = "none"
    compile: bool = False
    checkpoint_activations: bool = False
    grad_accumulation: int = 1
    label_smoothing: float = 0.1
    eval_every: int = 1
    checkpoint_every_steps: int = dataclasses.field(default=0, metadata=RESULT_NEUTRAL)
    log_every_steps: int = dataclasses.field(default=20, metadata=RESULT_NEUTRAL)
    limit_train_steps: int | None = None
    sync_batchnorm: bool = False
    device: Literal["auto", "cpu", "cuda"] = dataclasses.field(default="auto", metadata=RESULT_NEUTRAL)
    progress_bar: bool = dataclasses.field(default=True, metadata=RESULT_NEUTRAL)
    snapshot_epochs: tuple[int, ...] = dataclasses.field(default=(), metadata=RESULT_NEUTRAL)

    def __post_init__(self) -> None:
        require(self.epochs >= 1, "epochs", f"must be >= 1, got {self.epochs}; the paper uses 200")
        object.__setattr__(self, "snapshot_epochs", tuple(self.snapshot_epochs))
        require(
            all(isinstance(e, int) and 1 <= e <= self.epochs for e in self.snapshot_epochs),
            "snapshot_epochs",
            f"got {list(self.snapshot_epochs)}; list epochs between 1 and training.epochs={self.epochs}",
        )
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(
            self.grad_accumulation >= 1,
            "grad_accumulation",
            f"must be >= 1 (batches per optimiser step), got {self.grad_accumulation}",
        )
        require(
            0.0 <= self.label_smoothing < 1.0,
            "label_smoothing",
            f"must be in [0, 1), got {self.label_smoothing}; the paper uses 0.1",
        )
        require(self.eval_every >= 1, "eval_every", f"must be >= 1 epoch, got {self.eval_every}")
        require(
            self.checkpoint_every_steps >= 0,
            "checkpoint_every_steps",
            f"must be >= 0 (0 = only at epoch ends), got {self.checkpoint_every_steps}",
        )
        require(
            self.log_every_steps >= 1,
            "log_every_steps",
            f"must be >= 1, got {self.log_every_steps}",
        )
        require(
            self.limit_train_steps is None or self.limit_train_steps >= 1,
            "limit_train_steps",
            f"must be >= 1 or null (whole epochs), got {self.limit_train_steps}",
        )


# ----------------------------------------------------------------------------------------------
# contrastive baselines
# ----------------------------------------------------------------------------------------------


Method = Literal["crossclr", "aimclr"]
View = Literal["joint", "motion", "bone"]
TemporalCrop = Literal["pad", "resize"]

METHODS: tuple[str, ...] = ("crossclr", "aimclr")
VIEWS: tuple[str, ...] = ("joint", "motion", "bone")
TEMPORAL_CROPS: tuple[str, ...] = ("pad", "resize")


def _require_probability(name: str, value: float) -> None:
    require(0.0 <= value <= 1.0, name, f"got {value}; expected a probability in [0, 1]")


def _require_positive(name: str, value: float) -> None:
    require(value > 0, name, f"got {value}; expected a value > 0")


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
        require(
            self.shear_amplitude >= 0,
            "shear_amplitude",
            f"got {self.shear_amplitude}; expected >= 0 (0.5 in the papers, 0 disables Shear)",
        )
        require(
            self.temporal_crop in TEMPORAL_CROPS,
            "temporal_crop",
            f"got {self.temporal_crop!r}; expected one of {TEMPORAL_CROPS}",
        )
        require(
            self.temporal_padding_ratio >= 0,
            "temporal_padding_ratio",
            f"got {self.temporal_padding_ratio}; expected >= 0 (6 in the papers, 0 disables the crop)",
        )
        require(
            0.0 < self.crop_min_ratio <= 1.0,
            "crop_min_ratio",
            f"got {self.crop_min_ratio}; expected a fraction in (0, 1]",
        )
        for name in ("spatial_flip_prob", "noise_prob", "blur_prob", "axis_mask_prob", "temporal_flip_prob"):
            _require_probability(name, getattr(self, name))
        for name in ("rotate_main_max_degrees", "rotate_minor_max_degrees", "noise_std"):
            require(getattr(self, name) >= 0, name, f"got {getattr(self, name)}; expected >= 0")
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
        require(self.method in METHODS, "method", f"got {self.method!r}; expected one of {METHODS}")
        for name in ("projection_dim", "queue_size", "temperature", "topk"):
            _require_positive(name, getattr(self, name))
        require(
            0.0 <= self.momentum < 1.0,
            "momentum",
            f"got {self.momentum}; expected a value in [0, 1) (0.999 in the papers)",
        )
        require(
            self.mining_start_epoch >= 0,
            "mining_start_epoch",
            f"got {self.mining_start_epoch}; expected >= 0",
        )
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
        require(
            self.export_view in self.views,
            "export_view",
            f"got {self.export_view!r}; expected one of the views {self.views}",
        )

    @property
    def model_views(self) -> tuple[str, ...]:
        """Views that get their own encoders: all ``views`` for CrosSCLR; AimCLR trains one stream,
        ``export_view``."""
        return self.views if self.method == "crossclr" else (self.export_view,)


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------


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
