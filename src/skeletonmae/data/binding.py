"""A run config meets its data: open the splits ``data.root`` names and bind the model to them."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection
from pathlib import Path

import numpy as np

from skeletonmae.data.sources import StackedSplit, stack_splits
from skeletonmae.data.store import SplitArrays, load_split
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
    """The split ``data.root`` names (several folders: one :class:`StackedSplit`); missing: the fix."""
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


def dataset_info(arrays: SplitArrays | StackedSplit) -> DatasetInfo:
    """Shape and class facts of a split (of its first folder when stacked); errors name
    ``meta.json`` when a key is missing."""
    meta = arrays.meta
    if "num_classes" not in meta:
        raise ValueError(f"{arrays.folder / 'meta.json'}: key 'num_classes' missing; re-run prepare")
    if isinstance(arrays, StackedSplit):
        channels, joints, persons = arrays.sample_shape
    else:
        _, channels, _, joints, persons = arrays.data.shape  # (N, C, T, V, M)
    names = tuple(meta.get("class_names") or (str(i) for i in range(meta["num_classes"])))
    return DatasetInfo(
        arrays.folder,
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
    """Refuse unlabelled training data to a classifier stage, naming the dataset and what to do."""
    unlabelled = int((np.asarray(arrays.labels) < 0).sum())
    if arrays.num_classes == 0 or unlabelled:
        where = ", ".join(str(part.folder) for part in getattr(arrays, "parts", (arrays,)))
        raise ValueError(
            f"{where}: {unlabelled} of {len(arrays)} training samples have no label (-1); "
            f"the {stage} stage trains a classifier and needs labels: point data.root at a "
            "labelled dataset (unlabelled data is for `skeletonmae pretrain`)"
        )


def bind_model_to_data(config: RunConfig, info: DatasetInfo, pinned: Collection[str] = ()) -> RunConfig:
    """Set the model's joints / persons / classes / frames / channels from the data and the
    transform. Fields in ``pinned`` (written explicitly by the user) must already agree. Whether
    the masking fits the bound grid is checked where the pre-training model is built."""
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
    return dataclasses.replace(config, model=dataclasses.replace(config.model, **derived))
