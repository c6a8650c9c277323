"""From ``DataConfig`` to loaders: open splits, bind the model to the data, build samplers.

Batch sizes: ``data.batch_size`` is the global batch of one optimiser step; each rank loads
micro-batches of ``batch_size / (world_size * grad_accumulation)`` samples.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Sampler

from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.loader import BatchedView, BatchRequest
from skeletonmae.data.sources import StackedSplit, source_shares, stack_splits, weighted_epoch
from skeletonmae.data.store import SplitArrays, load_split
from skeletonmae.data.subsets import fraction_indices, label_fraction_indices
from skeletonmae.distributed import (
    DistributedContext,
    ResumableDistributedSampler,
    ShardSampler,
)
from skeletonmae.run_config import DataConfig, RunConfig

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the model must match, read from a split's arrays and ``meta.json``."""

    folder: Path
    num_samples: int
    num_channels: int
    num_joints: int
    num_persons: int
    num_classes: int
    class_names: tuple[str, ...]
    layout: str
    channels: str = "xyz"
    normalization: dict | None = None  # what prepare did to the data (data/normalize.py)


def split_folder(config: DataConfig, split: str) -> Path:
    """The folder of ``split`` in the (first) dataset of ``data.root``, for messages and records."""
    return _split_sources(config, split)[0]


def _split_sources(config: DataConfig, split: str) -> list[Path]:
    """The split folders that make ``split``: the split of every root that has it (one root:
    that root's, whether or not it exists), or with ``NAME/SPLIT`` the split of the root named NAME."""
    roots = config.roots
    if not roots:
        raise ValueError(
            "data.root is not set; point it at a prepared dataset folder "
            "(made by `skeletonmae prepare`), e.g. --set data.root=data/ntu60-xsub"
        )
    if "/" in split:
        name, split = split.split("/", 1)
        named = [root for root in roots if root.name == name]
        if not named:
            raise ValueError(
                f"split {name}/{split}: no folder of data.root is named {name!r}; "
                f"the datasets are {[root.name for root in roots]}"
            )
        roots = tuple(named)
    if len(roots) == 1:
        return [roots[0] / split]
    found = [root / split for root in roots if (root / split).is_dir()]
    if not found:
        raise FileNotFoundError(
            f"split {split!r}: none of the folders of data.root has it "
            f"({', '.join(map(str, roots))}); name a split they hold"
        )
    return found


def open_split(config: DataConfig, split: str) -> SplitArrays | StackedSplit:
    """``load_split`` with an error naming the folder and the fix when it is missing; several
    folders (``data.root`` a list) come back as one :class:`StackedSplit`."""
    folders = _split_sources(config, split)
    parts = [_load_one(folder, split, config.mmap) for folder in folders]
    return parts[0] if len(parts) == 1 else stack_splits(parts)


def _load_one(folder: Path, split: str, mmap: bool) -> SplitArrays:
    if not folder.is_dir():
        root = folder.parent
        available = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise FileNotFoundError(
            f"{folder}: split folder not found (data.root={root}, split {split!r}); "
            f"available splits: {available or 'none - prepare the dataset first'}"
        )
    return load_split(folder, mmap=mmap)


def dataset_info(arrays: SplitArrays | StackedSplit, folder: Path) -> DatasetInfo:
    """Shape and class facts of a split; errors name ``meta.json`` when a key is missing."""
    meta = arrays.meta
    if "num_classes" not in meta:
        raise ValueError(f"{folder / 'meta.json'}: key 'num_classes' missing; re-run prepare")
    if isinstance(arrays, StackedSplit):
        channels, joints, persons = arrays.sample_shape
    else:
        _, channels, _, joints, persons = arrays.data.shape  # (N, C, T, V, M)
    names = tuple(meta.get("class_names") or (str(i) for i in range(meta["num_classes"])))
    return DatasetInfo(
        folder,
        len(arrays),
        int(channels),
        int(joints),
        int(persons),
        int(meta["num_classes"]),
        names,
        str(meta.get("layout", "")),
        arrays.channels,
        meta.get("normalization"),
    )


def require_labels(arrays: SplitArrays | StackedSplit, stage: str) -> None:
    """Fine-tuning and linear evaluation need every training sample labelled; the message names
    the dataset and what to do instead."""
    unlabelled = int((np.asarray(arrays.labels) < 0).sum())
    if arrays.num_classes == 0 or unlabelled:
        where = ", ".join(str(part.folder) for part in getattr(arrays, "parts", (arrays,)))
        raise ValueError(
            f"{where}: {unlabelled} of {len(arrays)} training samples have no label (-1); "
            f"the {stage} stage trains a classifier and needs labels: point data.root at a "
            "labelled dataset (unlabelled data is for `skeletonmae pretrain`)"
        )


def bind_model_to_data(
    config: RunConfig, info: DatasetInfo, pinned: Collection[str] = (), check_mask: bool = True
) -> RunConfig:
    """Set the model's joints / persons / classes / frames / channels from the data and the
    transform. Fields in ``pinned`` (written explicitly by the user) must already agree.
    ``check_mask``: also check the masking fits the bound grid (pre-training; fine-tuning and
    linear runs never mask, so their unused ``mask`` section is not held against the grid)."""
    derived = {
        "num_joints": info.num_joints,
        "num_persons": info.num_persons,
        "num_classes": info.num_classes,
        "num_frames": config.data.transform.num_frames,
        "in_channels": info.num_channels,
    }
    sources = {"num_frames": "data.transform.num_frames"}
    for field, value in derived.items():
        current = getattr(config.model, field)
        if field in pinned and current != value:
            source = sources.get(field, str(info.folder / "meta.json") + " / data.npy")
            raise ValueError(
                f"model.{field}={current} disagrees with {source} ({value}); remove "
                f"model.{field} from the config (it is read from the data) or fix the data"
            )
        if current != value:
            logger.info("model.%s: %s -> %s (from the data)", field, current, value)
    model = dataclasses.replace(config.model, **derived)
    if check_mask:
        config.mask.check_against(model)
    return dataclasses.replace(config, model=model)


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


class WeightedEpochSampler(Sampler[int]):
    """Training sampler when ``data.root_weights`` is set: each epoch is drawn by
    :func:`~skeletonmae.data.sources.weighted_epoch` (seeded by ``seed`` and the epoch), then
    sharded over ranks like ``DistributedSampler(drop_last=True)``; :meth:`set_start` skips the
    samples a resumed run has already seen, as :class:`ResumableDistributedSampler` does."""

    def __init__(
        self, offsets: np.ndarray, shares: np.ndarray, context: DistributedContext, seed: int
    ) -> None:
        self.offsets, self.shares, self.seed = offsets, shares, seed
        self.rank, self.world_size = context.rank, context.world_size
        self.num_samples = int(offsets[-1]) // context.world_size
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def set_start(self, samples_to_skip: int) -> None:
        if not 0 <= samples_to_skip <= self.num_samples:
            raise ValueError(f"cannot skip {samples_to_skip} of {self.num_samples} samples")
        self.start = samples_to_skip

    def __iter__(self) -> Iterator[int]:
        order = weighted_epoch(self.offsets, self.shares, self.seed, self.epoch)
        mine = order[self.rank : self.num_samples * self.world_size : self.world_size]
        return iter(mine[self.start :].tolist())

    def __len__(self) -> int:
        return self.num_samples - self.start


@dataclasses.dataclass
class TrainData:
    """The training loader, its resumable sampler and the hook that re-seeds augmentation."""

    loader: DataLoader
    sampler: ResumableDistributedSampler | WeightedEpochSampler
    set_epoch: Callable[[int], None]
    micro_batch_size: int
    num_samples: int


def _loader(
    dataset: SkeletonDataset,
    sampler: Sampler[int],
    batch_size: int,
    drop_last: bool,
    epoch_of: Callable[[], int],
    config: RunConfig,
    context: DistributedContext,
) -> DataLoader:
    return DataLoader(
        BatchedView(dataset),
        batch_size=None,
        sampler=BatchRequests(sampler, batch_size, drop_last, epoch_of),
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
    sampler: ResumableDistributedSampler | WeightedEpochSampler
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
    loader = _loader(dataset, sampler, micro, True, lambda: sampler.epoch, config, context)
    return TrainData(loader, sampler, dataset.set_epoch, micro, len(dataset))


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
    config: RunConfig, arrays: SplitArrays | StackedSplit, context: DistributedContext, batch_size: int
) -> DataLoader:
    """Un-augmented loader over this rank's shard of the split, in order."""
    dataset = SkeletonDataset(arrays, config.data.transform, train=False, seed=config.training.seed)
    return _loader(
        dataset, ShardSampler(len(dataset), context), batch_size, False, lambda: 0, config, context
    )
