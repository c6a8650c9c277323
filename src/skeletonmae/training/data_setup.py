"""From ``DataConfig`` to loaders: samplers and data loaders of the training and evaluation splits;
each rank loads micro-batches of ``data.batch_size / (world_size * grad_accumulation)`` samples."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Sampler

from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.loader import BatchedView, BatchRequest
from skeletonmae.data.sources import StackedSplit, source_shares, weighted_epoch
from skeletonmae.data.store import SplitArrays
from skeletonmae.data.subsets import fraction_indices, label_fraction_indices
from skeletonmae.distributed import DistributedContext, ResumableDistributedSampler, ShardSampler
from skeletonmae.run_config import DataConfig, RunConfig
from skeletonmae.training.loop_types import TrainData

logger = logging.getLogger(__name__)

EVAL_BATCH = 32  # per process, when evaluating a saved run with data.eval_batch_size null


def micro_batch_size(config: RunConfig, context: DistributedContext) -> int:
    """Per-rank samples per forward pass; the global batch must split evenly."""
    parts = context.world_size * config.training.grad_accumulation
    if config.data.batch_size % parts:
        raise ValueError(
            f"data.batch_size={config.data.batch_size} does not split over {context.world_size} "
            f"process(es) x training.grad_accumulation={config.training.grad_accumulation}; "
            f"use a multiple of {parts}"
        )
    return config.data.batch_size // parts


class BatchRequests(Sampler[BatchRequest]):
    """Groups a per-sample sampler into :class:`BatchRequest` s (epoch + positions), so each
    batch is transformed in one vectorised ``SkeletonDataset.get_batch`` call with the right epoch
    even inside DataLoader workers."""

    def __init__(
        self, sampler: Sampler[int], batch_size: int, drop_last: bool, epoch_of: Callable[[], int]
    ) -> None:
        self.batches = BatchSampler(sampler, batch_size, drop_last)
        self.epoch_of = epoch_of

    def __iter__(self) -> Iterator[BatchRequest]:
        epoch = self.epoch_of()
        for positions in self.batches:
            yield BatchRequest(epoch, tuple(positions))

    def __len__(self) -> int:
        return len(self.batches)


class WeightedEpochSampler(ResumableDistributedSampler):
    """Training sampler when ``data.root_weights`` is set: each epoch is drawn by
    :func:`~skeletonmae.data.sources.weighted_epoch` (seeded by ``seed`` and the epoch), then
    sharded and resumed like the ``drop_last`` :class:`ResumableDistributedSampler` it extends."""

    def __init__(
        self, offsets: np.ndarray, shares: np.ndarray, context: DistributedContext, seed: int
    ) -> None:
        super().__init__(range(int(offsets[-1])), context, shuffle=True, seed=seed, drop_last=True)
        self.offsets, self.shares = offsets, shares

    def __iter__(self) -> Iterator[int]:
        order = weighted_epoch(self.offsets, self.shares, self.seed, self.epoch)
        mine = order[self.rank : self.total_size : self.num_replicas]
        return iter(mine[self.start :].tolist())


def _loader(
    dataset: SkeletonDataset,
    sampler: Sampler[int],
    batch_size: int,
    config: RunConfig,
    context: DistributedContext,
) -> DataLoader:
    """Batches of ``sampler`` (complete ones only when training), transformed for its epoch."""
    epoch_of = lambda: getattr(sampler, "epoch", 0)  # noqa: E731 (evaluation samplers have none)
    return DataLoader(
        BatchedView(dataset),
        batch_size=None,
        sampler=BatchRequests(sampler, batch_size, dataset.train, epoch_of),
        num_workers=config.data.num_workers,
        pin_memory=context.device.type == "cuda",
        generator=torch.Generator().manual_seed(config.training.seed),  # keeps the global RNG
    )


def build_train_data(
    config: RunConfig, arrays: SplitArrays | StackedSplit, context: DistributedContext, stage: str
) -> TrainData:
    """Shuffled, augmented, ``drop_last`` loader over the split, or the subset of it that ``stage``
    reads (:func:`training_indices`); with ``data.root_weights``, each dataset's share of an epoch
    is drawn afresh every epoch (:class:`WeightedEpochSampler`)."""
    data = config.data
    indices = training_indices(data, np.asarray(arrays.labels), stage)
    if indices is not None:
        logger.info("%s reads %d of %d training samples", stage, len(indices), len(arrays))
    dataset = SkeletonDataset(arrays, data.transform, train=True, seed=config.training.seed, indices=indices)
    sampler: ResumableDistributedSampler
    if data.root_weights is not None:
        offsets = dataset.split.offsets
        shares = source_shares(data.root_weights, np.diff(offsets))
        logger.info("epoch shares of %s: %s", [str(r) for r in data.roots], np.round(shares, 3).tolist())
        sampler = WeightedEpochSampler(offsets, shares, context, config.training.seed)
    else:
        sampler = ResumableDistributedSampler(
            dataset, context, shuffle=True, seed=config.training.seed, drop_last=True
        )
    micro = micro_batch_size(config, context)
    return TrainData(_loader(dataset, sampler, micro, config, context), sampler, dataset.set_epoch, micro)


def training_indices(data: DataConfig, labels: np.ndarray, stage: str) -> np.ndarray | None:
    """Rows of the training split (labels ``(N,)``) that ``stage`` trains on, ``None`` for all:
    pre-training reads ``data.pretrain_fraction`` of them, the labelled stages ``data.label_fraction``
    of the labels (class-balanced)."""
    if stage == "pretrain":
        fraction = data.pretrain_fraction
        return None if fraction == 1.0 else fraction_indices(len(labels), fraction, data.label_seed)
    if data.label_fraction == 1.0:
        return None
    return label_fraction_indices(labels, data.label_fraction, data.label_seed)


def build_eval_loader(
    config: RunConfig, arrays: SplitArrays | StackedSplit, context: DistributedContext, batch_size: int = 0
) -> DataLoader:
    """Un-augmented loader over this rank's shard of the split, in order; ``batch_size`` per process
    (0: ``data.eval_batch_size``, or :data:`EVAL_BATCH` when that is null)."""
    batch_size = batch_size or config.data.eval_batch_size or EVAL_BATCH
    dataset = SkeletonDataset(arrays, config.data.transform, train=False, seed=config.training.seed)
    return _loader(dataset, ShardSampler(len(dataset), context), batch_size, config, context)
