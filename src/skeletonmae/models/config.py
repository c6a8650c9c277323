"""Typed model and masking configs, with the paper's defaults and the named presets.

``ModelConfig`` describes the STTFormer encoder (stages of blocks), the input grid (frames, tuple
length, joints, persons), the classifier head and the reconstruction decoder. ``MaskConfig``
describes the spatial-temporal masking of pre-training. Both are frozen dataclasses validated in
``__post_init__``; errors name the field and the fix. Both round-trip through
``dataclasses.asdict`` -> plain dict -> ``from_dict`` (nested stage specs rebuilt).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from skeletonmae.config import DATA_BOUND, from_mapping, require
from skeletonmae.masking import check_visible_frames, kept_frame_count, num_removed

__all__ = ["StageSpec", "BlockSpec", "ModelConfig", "MaskConfig", "preset", "PRESET_NAMES", "FEATURE_POOLS"]


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
