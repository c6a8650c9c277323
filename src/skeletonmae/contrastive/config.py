"""Typed configs of the contrastive baselines (CrosSCLR, AimCLR) with their papers' defaults.

Defaults follow the methods' papers and official configs (see ``docs/contrastive.md`` for the
sources): MoCo with a 32,768-key queue, key-encoder momentum 0.999, temperature 0.07, a two-layer
MLP projection to 128 dimensions; SkeletonCLR's Shear (amplitude 0.5) and Crop (padding ratio 6);
AimCLR's extreme augmentations, energy-based attention drop and nearest-neighbour mining
(top-1, from epoch 150 of 300); CrosSCLR's cross-view knowledge mining over joint / motion / bone
(top-1 with context, from epoch 150 of 300).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from skeletonmae.config import require

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
