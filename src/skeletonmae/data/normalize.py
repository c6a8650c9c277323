"""Normalisation chosen at preparation (``prepare convert --center first|every --normalize-scale
--trim``), recorded in the manifest and each ``meta.json`` and applied again to new inputs: ``first``
subtracts the centre joint of the first person's first valid frame (motion through space is kept),
``every`` does so frame by frame, ``scale`` divides by the body size, ``trim`` cuts the frame axis to
the longest sequence. Only positions change; absent persons and padded frames stay exactly zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from skeletonmae.data.channels import spatial_dims
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.transforms import body_size

CENTERS = ("none", "first", "every")


@dataclasses.dataclass(frozen=True)
class Normalization:
    """What was done to the data at preparation (the defaults: nothing)."""

    center: str = "none"
    scale: bool = False

    def __post_init__(self) -> None:
        if self.center not in CENTERS:
            raise ValueError(f"normalization center {self.center!r}: use one of {list(CENTERS)}")

    @property
    def is_identity(self) -> bool:
        return self.center == "none" and not self.scale

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Normalization:
        return cls(**dict(data)) if data else cls()

    def apply(self, data: np.ndarray, lengths: np.ndarray, layout: str, channels: str) -> np.ndarray:
        """``data`` ``(N, C, T, V, M)`` -> a normalised float32 copy (or ``data`` unchanged)."""
        if self.is_identity:
            return data
        out = np.array(data, dtype=np.float32)  # a copy: the source may be a read-only memmap
        dims = spatial_dims(channels)
        centre = get_layout(layout).center_joint
        for row in range(out.shape[0]):
            _normalize_sample(out[row, :dims], int(lengths[row]), centre, self)
        return out


def _normalize_sample(space: np.ndarray, length: int, centre: int, how: Normalization) -> None:
    """Positions ``(D, T, V, M)`` of one sample, in place; zeros (absent, padding) stay zero."""
    present = space.any(axis=0)  # (T, V, M): joints that hold a position
    frames = np.flatnonzero(present[:length, :, 0].any(axis=1)) if length else np.array([], int)
    if frames.size == 0:
        return
    if how.center == "first":
        origin = space[:, frames[0], centre, 0][:, None, None, None]  # (D, 1, 1, 1)
    elif how.center == "every":
        origin = space[:, :, centre, 0][:, :, None, None]  # (D, T, 1, 1), per frame
    else:
        origin = np.zeros((space.shape[0], 1, 1, 1), np.float32)
    space -= origin
    space *= present  # padded frames and absent persons back to exactly zero
    if how.scale:
        space /= body_size(space[None])[0]  # transforms.body_size: what normalize_scale divides by


def normalize_samples(samples: SkeletonSamples, how: Normalization, trim: bool = False) -> SkeletonSamples:
    """``samples`` normalised as ``how`` says, the frame axis cut to the longest sequence if ``trim``."""
    data = how.apply(samples.data, samples.lengths, samples.layout, samples.channels)
    if trim and samples.num_samples:
        data = data[:, :, : max(int(samples.lengths.max()), 1)]
    return dataclasses.replace(samples, data=data)
