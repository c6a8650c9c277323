"""The training dataset: a prepared split plus the transforms, deterministic in ``(seed, epoch, index)``."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from skeletonmae.data.channels import spatial_dims
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.random_streams import uniform_streams
from skeletonmae.data.sources import StackedSplit, stack_splits
from skeletonmae.data.store import SplitArrays, is_split_folder, load_split
from skeletonmae.data.transforms import facing_problem, transform_batch
from skeletonmae.run_config import TransformConfig


class SkeletonDataset(Dataset):
    """``ds[i] -> (x, label, i)``: ``x`` float32 tensor ``(C, T, V, M)`` with ``T = transform.num_frames``.

    ``split``: a split folder (memory-mapped), :class:`SplitArrays` or a :class:`StackedSplit`;
    ``indices``: those samples only, in that order. Augmentation depends only on ``(seed, epoch,
    sample)`` (:meth:`set_epoch` every epoch), not on workers, batches or resumption. Pickling keeps
    the folder paths: DataLoader workers re-open the memmap."""

    def __init__(
        self,
        split: SplitArrays | StackedSplit | str | os.PathLike,
        transform: TransformConfig = TransformConfig(),
        train: bool = True,
        seed: int = 0,
        indices: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        if not isinstance(split, (SplitArrays, StackedSplit)):
            split = load_split(split)
        self.split = split if isinstance(split, StackedSplit) else stack_splits([split])
        self.transform = transform
        self.train = train
        self.seed = int(seed)
        self.epoch = 0
        count = len(self.split)
        self.indices = np.arange(count) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= count):
            raise IndexError(f"indices must lie in 0..{count - 1} (the split has {count} samples)")
        layout = get_layout(self.split.layout)
        self.geometry = {  # what transform_batch needs of the layout and the channels
            "parents": layout.parent_index(),
            "mirror": layout.flip_index(),
            "pairs": np.asarray(layout.left_right, dtype=np.int64).reshape(-1, 2),  # (P, 2) left, right
            "spatial_dims": spatial_dims(self.split.channels),
        }
        problem = facing_problem(self.geometry["spatial_dims"], self.geometry["pairs"])
        if transform.align_facing and problem is not None:
            raise ValueError(
                f"{self.split.folder} ({self.split.channels}, layout {self.split.layout}): {problem}"
            )

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    @property
    def labels(self) -> np.ndarray:
        """``(len(self),)`` int64 labels in dataset order."""
        return self.split.labels[self.indices]

    @property
    def num_classes(self) -> int:
        return self.split.num_classes

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation of ``epoch`` (non-negative)."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        position = int(i)
        if not -len(self) <= position < len(self):
            raise IndexError(f"index {i} out of range for a dataset of {len(self)} samples")
        x, labels, _ = self.get_batch([position % len(self)])
        return x[0], int(labels[0]), position % len(self)

    def get_batch(
        self, positions: Sequence[int] | np.ndarray, epoch: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x (B, C, T, V, M) float32, labels (B,) int64, positions (B,) int64)``; ``epoch`` overrides
        :attr:`epoch`. A position ``p >= len(self)`` is sample ``p % len(self)`` augmented anew (a
        weighted epoch's repeated draw, :func:`~skeletonmae.data.sources.weighted_epoch`)."""
        positions = np.asarray(positions, dtype=np.int64)
        rows = self.indices[positions % len(self)]  # (B,) rows of the (stacked) split
        keys = rows + (positions // len(self)) * len(self.split)  # augmentation keys
        uniforms = None
        if self.train:
            uniforms = uniform_streams(
                self.seed, self.epoch if epoch is None else epoch, keys, self.transform.draws_needed
            )
        x = self._transform_rows(rows, uniforms)
        return torch.from_numpy(x), torch.from_numpy(self.split.labels[rows]), torch.from_numpy(positions)

    def _transform_rows(self, rows: np.ndarray, uniforms: np.ndarray | None) -> np.ndarray:
        """``(B, C, T, V, M)`` float32 samples of stack ``rows``, each part transformed at once."""
        split = self.split
        part_of = np.searchsorted(split.offsets, rows, side="right") - 1  # (B,) part of each row
        parts = np.unique(part_of)
        out = None
        for part in parts:
            chosen = np.flatnonzero(part_of == part)
            local = rows[chosen] - split.offsets[part]
            draws = None if uniforms is None else uniforms[chosen]
            data, lengths = split.parts[part].data, split.parts[part].lengths[local]
            x = transform_batch(
                data, local, lengths, self.transform, train=self.train, uniforms=draws, **self.geometry
            )  # (b, C, T, V, M_part)
            if len(parts) == 1 and x.shape[-1] == split.num_persons:
                return x
            if out is None:
                out = np.zeros((len(rows), *x.shape[1:-1], split.num_persons), np.float32)
            out[chosen, ..., : x.shape[-1]] = x
        if out is None:  # no rows
            channels, joints, persons = split.sample_shape
            return np.zeros((0, channels, self.transform.num_frames, joints, persons), np.float32)
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if all(isinstance(p.data, np.memmap) and is_split_folder(p.folder) for p in self.split.parts):
            state["split"] = [str(part.folder) for part in self.split.parts]
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state["split"], list):
            state["split"] = stack_splits([load_split(folder) for folder in state["split"]])
        self.__dict__.update(state)
