"""DataLoader helpers: :func:`make_loader` yields ``(x (B, C, T, V, M) float32, labels (B,) int64,
indices (B,) int64)``; call ``loader.set_epoch(epoch)`` before each epoch. The order of an epoch is a
permutation drawn from ``(seed, epoch)`` (a resumed run sees the same batches). ``batched=True``
transforms a batch in one call (:meth:`SkeletonDataset.get_batch`) and sends the epoch with the
request, so persistent workers augment right; ``batched=False``: per-sample ``dataset[i]`` (same values).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from skeletonmae.data.dataset import SkeletonDataset


@dataclass(frozen=True)
class BatchRequest:
    """What one batch is: its epoch and the dataset positions in it."""

    epoch: int
    positions: tuple[int, ...]


class EpochBatchSampler(Sampler[BatchRequest]):
    """Batches of dataset positions, shuffled by ``(seed, epoch)``."""

    def __init__(
        self, length: int, batch_size: int, *, shuffle: bool, drop_last: bool = False, seed: int = 0
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.length, self.batch_size, self.shuffle, self.drop_last = length, batch_size, shuffle, drop_last
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.length)
        return np.random.default_rng([self.seed, self.epoch, 7_919]).permutation(self.length)

    def __iter__(self) -> Iterator[BatchRequest]:
        order = self.order()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield BatchRequest(self.epoch, tuple(order[start : start + self.batch_size].tolist()))

    def __len__(self) -> int:
        full, rest = divmod(self.length, self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1


class BatchedView(Dataset):
    """Adapter: ``view[request] -> dataset.get_batch(request.positions, request.epoch)``:
    ``(x (B, C, T, V, M), labels (B,), positions (B,))``."""

    def __init__(self, dataset: SkeletonDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, request: BatchRequest) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.dataset.get_batch(request.positions, epoch=request.epoch)


class _PositionBatches(Sampler[list[int]]):
    """The per-sample path: plain lists of positions (the dataset's own epoch applies)."""

    def __init__(self, batches: EpochBatchSampler) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[list[int]]:
        for request in self.batches:
            yield list(request.positions)

    def __len__(self) -> int:
        return len(self.batches)


class SkeletonLoader:
    """A DataLoader over a :class:`SkeletonDataset` with :meth:`set_epoch`."""

    def __init__(self, dataset: SkeletonDataset, sampler: EpochBatchSampler, loader: DataLoader) -> None:
        self.dataset, self.sampler, self.loader = dataset, sampler, loader

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)
        self.dataset.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        return iter(self.loader)

    def __len__(self) -> int:
        return len(self.sampler)


def make_loader(
    dataset: SkeletonDataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    batched: bool = True,
    pin_memory: bool = False,
    persistent_workers: bool = False,
) -> SkeletonLoader:
    """Build a :class:`SkeletonLoader` (see the module docstring)."""
    sampler = EpochBatchSampler(len(dataset), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    persistent_workers = persistent_workers and num_workers > 0
    common = dict(num_workers=num_workers, pin_memory=pin_memory, persistent_workers=persistent_workers)
    if batched:
        loader = DataLoader(BatchedView(dataset), batch_size=None, sampler=sampler, **common)
    else:
        if persistent_workers:
            raise ValueError(
                "persistent_workers needs batched=True: per-sample workers would keep a stale epoch"
            )
        loader = DataLoader(dataset, batch_sampler=_PositionBatches(sampler), **common)
    return SkeletonLoader(dataset, sampler, loader)
