"""In-memory labelled skeleton sequences: the common currency of readers, writers and the converter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skeletonmae.data.channels import check_channels
from skeletonmae.data.classes import default_class_names

UNLABELLED = -1


def valid_lengths(data: np.ndarray, chunk: int = 256) -> np.ndarray:
    """``(N,)`` int64 one past the last non-zero frame of ``data`` ``(N, C, T, V, M)``, read in chunks
    (a memmap larger than memory is fine)."""
    lengths = np.zeros(data.shape[0], dtype=np.int64)
    for start in range(0, data.shape[0], chunk):
        block = np.asarray(data[start : start + chunk])
        nonzero = (block != 0).any(axis=(1, 3, 4))  # (n, T)
        last = data.shape[2] - np.argmax(nonzero[:, ::-1], axis=1)
        lengths[start : start + chunk] = np.where(nonzero.any(axis=1), last, 0)
    return lengths


@dataclass(frozen=True)
class SkeletonSamples:
    """``N`` sequences padded to ``T`` frames: ``data`` ``(N, C, T, V, M)`` float32 (or float16), zeros
    beyond ``lengths`` ``(N,)`` int64 and for absent persons; ``labels`` ``(N,)`` int64, 0-based (-1
    unlabelled); ``names``; ``layout`` (a layout name); ``class_names``; ``channels``
    (:mod:`skeletonmae.data.channels`; empty: the default for ``C``)."""

    data: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    lengths: np.ndarray
    layout: str
    class_names: tuple[str, ...]
    channels: str = ""

    def __post_init__(self) -> None:
        if self.data.ndim != 5:
            raise ValueError(f"data must be (N, C, T, V, M), got shape {self.data.shape}")
        object.__setattr__(self, "channels", check_channels(self.channels, self.data.shape[1]))
        count = self.data.shape[0]
        for field, value in (("labels", self.labels), ("lengths", self.lengths)):
            if value.shape != (count,):
                raise ValueError(f"{field} must have shape ({count},), got {value.shape}")
        if len(self.names) != count:
            raise ValueError(f"names has {len(self.names)} entries for {count} samples")
        if count and (self.lengths.min() < 0 or self.lengths.max() > self.data.shape[2]):
            raise ValueError(f"lengths must lie in 0..{self.data.shape[2]} (the padded frame count)")
        known = self.labels[self.labels != UNLABELLED]
        if known.size and (known.min() < 0 or known.max() >= len(self.class_names)):
            raise ValueError(
                f"labels must lie in 0..{len(self.class_names) - 1} ({len(self.class_names)} class names) "
                f"or be {UNLABELLED}; got {known.min()}..{known.max()}"
            )

    @property
    def num_samples(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @classmethod
    def from_arrays(
        cls,
        data: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        names: list[str] | tuple[str, ...] | None = None,
        lengths: np.ndarray | None = None,
        layout: str,
        class_names: tuple[str, ...] | None = None,
        name_prefix: str = "sample",
        channels: str = "",
    ) -> SkeletonSamples:
        """Fill in defaults: unlabelled, ``sample_00000`` names, lengths from the data, class names
        by :func:`~skeletonmae.data.classes.default_class_names`."""
        if data.dtype not in (np.float32, np.float16):
            data = np.asarray(data, dtype=np.float32)
        count = data.shape[0]
        labels = np.full(count, UNLABELLED, np.int64) if labels is None else np.asarray(labels, np.int64)
        if class_names is None:
            class_names = default_class_names(int(labels.max()) + 1 if count else 0, layout)
        names = tuple(f"{name_prefix}_{i:05d}" for i in range(count)) if names is None else tuple(names)
        lengths = valid_lengths(data) if lengths is None else np.asarray(lengths, np.int64)
        return cls(data, labels, names, lengths, layout, tuple(class_names), channels)

    @classmethod
    def from_sequences(
        cls,
        sequences: list[np.ndarray],
        labels: list[int],
        names: list[str] | tuple[str, ...],
        layout: str,
        class_names: tuple[str, ...],
        *,
        shape: tuple[int, int, int],
        frames: int | None = None,
        channels: str = "",
    ) -> SkeletonSamples:
        """``(C, T_i, V, M)`` sequences of ``shape`` ``(C, V, M)`` zero-padded to ``frames`` (default:
        the longest)."""
        lengths = np.array([sequence.shape[1] for sequence in sequences], np.int64)
        frames = int(lengths.max(initial=0)) if frames is None else frames
        data = np.zeros((len(sequences), shape[0], frames, *shape[1:]), np.float32)
        for row, sequence in enumerate(sequences):
            data[row, :, : sequence.shape[1]] = sequence
        return cls(
            data, np.array(labels, np.int64), tuple(names), lengths, layout, tuple(class_names), channels
        )

    def select(self, index: np.ndarray) -> SkeletonSamples:
        """The samples at ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        return SkeletonSamples(
            self.data[index],
            self.labels[index],
            tuple(self.names[i] for i in index),
            self.lengths[index],
            self.layout,
            self.class_names,
            self.channels,
        )
