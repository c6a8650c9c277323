"""Features of a whole prepared split, and the feature files ``skeletonmae embed`` writes.

A split goes through the checkpoint's test transform (``SkeletonDataset.get_batch`` with
``train=False``, as in training's evaluation) or, for augmented views, its training transform.
Encoder features are the pooled encoder output (``SkeletonClassifier.forward_features``); raw
features the flattened transformed input.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from skeletonmae.atomic import save_npy_atomic, write_json_atomic
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.store import SplitArrays, dataset_splits, is_split_folder, load_split
from skeletonmae.inference.checkpoint_model import InferenceModel
from skeletonmae.run_config import TransformConfig

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SplitFeatures:
    """``features`` ``(N, D)`` float32 of a split, with its ``labels`` ``(N,)`` and ``names``."""

    features: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    split: str

    @classmethod
    def of(cls, split: SplitArrays, features: np.ndarray) -> SplitFeatures:
        return cls(features, np.asarray(split.labels, dtype=np.int64), split.names, split.folder.name)


def open_split_folder(dataset: str | os.PathLike[str], split: str | None) -> SplitArrays:
    """A prepared split: ``dataset`` is a split folder (holding ``meta.json``) or a dataset root
    whose ``split`` sub-folder is meant; errors name the folder and the fix."""
    root = Path(dataset)
    if is_split_folder(root) and split is None:
        return load_split(root)
    if split is None:
        raise FileNotFoundError(
            f"{root}: not a split folder (no meta.json); pass a split folder "
            "such as DATASET/test, or the dataset root with --split NAME"
        )
    folder = root / split
    if not is_split_folder(folder):
        available = dataset_splits(root) if root.is_dir() else []
        raise FileNotFoundError(
            f"{folder}: no prepared split {split!r} in {root}; available: "
            f"{available or 'none (run skeletonmae prepare first)'}"
        )
    return load_split(folder)


def transformed_batches(
    split: SplitArrays, transform: TransformConfig, batch_size: int, view: int | None = None
) -> Iterator[torch.Tensor]:
    """``(B, C, T, V, M)`` batches of ``split`` in order: the test transform (``view`` None) or the
    training transform with the augmentation draws of epoch ``view`` (seeded: the same each call)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if view is not None and view < 0:
        raise ValueError(f"view must be None or >= 0, got {view}")
    dataset = SkeletonDataset(split, transform, train=view is not None)
    if view is not None:
        dataset.set_epoch(view)
    for start in range(0, len(dataset), batch_size):
        yield dataset.get_batch(np.arange(start, min(start + batch_size, len(dataset))))[0]


@torch.no_grad()
def encode(model: InferenceModel, batches: Iterable[torch.Tensor], pool: str | None = None) -> np.ndarray:
    """``(N, F)`` float32 pooled encoder features of ``(B, C, T, V, M)`` model-input batches (``pool``:
    ``"mean"``, ``"tuple"`` or None, the head's ``model.head_pool``)."""
    chunks = [model.classifier.forward_features(x.to(model.device), pool).float().cpu() for x in batches]
    if not chunks:
        return np.zeros((0, model.model_config.pooled_dim(pool)), np.float32)
    return torch.cat(chunks).numpy()


def embed_split(
    model: InferenceModel,
    split: SplitArrays,
    batch_size: int = 64,
    pool: str | None = None,
    view: int | None = None,
) -> SplitFeatures:
    """``(N, D)`` pooled encoder features of every sample of ``split``, in order (``(N, D * T / L)``
    with ``pool="tuple"``; None: the head's ``model.head_pool``). ``view``: see
    :func:`transformed_batches`."""
    config = model.model_config
    _, channels, _, joints, persons = split.data.shape
    if (channels, joints, persons) != (config.in_channels, config.num_joints, config.num_persons):
        raise ValueError(
            f"{split.folder}: samples have {channels} coordinates, {joints} joints and {persons} "
            f"person slot(s); the checkpoint {model.path} expects {config.in_channels}, "
            f"{config.num_joints} and {config.num_persons}; use a split prepared like its training data"
        )
    features = encode(model, transformed_batches(split, model.transform, batch_size, view), pool)
    logger.info("embedded %d samples of %s: features %s", len(split), split.folder, features.shape)
    return SplitFeatures.of(split, features)


def raw_split_features(
    split: SplitArrays, transform: TransformConfig, batch_size: int = 256, view: int | None = None
) -> SplitFeatures:
    """``(N, C * T * V * M)`` float32: every sample transformed (``view``: see
    :func:`transformed_batches`) and flattened."""
    chunks = [x.flatten(1).float().numpy() for x in transformed_batches(split, transform, batch_size, view)]
    return SplitFeatures.of(split, np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32))


def write_features(
    path: str | os.PathLike[str], features: np.ndarray, info: dict[str, object]
) -> tuple[Path, Path]:
    """Save ``features (N, D)`` as ``path`` (``.npy``) and ``info`` (names, labels, splits,
    checkpoint, ...) as ``<path stem>.json`` beside it; both atomically."""
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"{path}: feature files are .npy; pass --out FEATURES.npy")
    sidecar = path.with_suffix(".json")
    save_npy_atomic(path, np.asarray(features, dtype=np.float32))
    write_json_atomic(
        sidecar, {"num_samples": int(features.shape[0]), "feature_dim": int(features.shape[1]), **info}
    )
    return path, sidecar


def read_features(path: str | os.PathLike[str]) -> tuple[np.ndarray, dict]:
    """A feature file written by :func:`write_features` and its sidecar; errors name the file."""
    path = Path(path)
    sidecar = path.with_suffix(".json")
    for needed in (path, sidecar):
        if not needed.is_file():
            raise FileNotFoundError(
                f"{needed}: not found; write features with `skeletonmae embed "
                "CHECKPOINT DATASET --out FEATURES.npy` (it writes both files)"
            )
    features = np.load(path, allow_pickle=False)
    info = json.loads(sidecar.read_text(encoding="utf-8"))
    if features.ndim != 2 or not isinstance(info, dict) or info.get("num_samples") != len(features):
        raise ValueError(f"{path}: features {features.shape} do not match {sidecar}; embed again")
    return features, info


def _labelled_split(path: str | os.PathLike[str]) -> tuple[SplitFeatures, dict]:
    """One feature file as :class:`SplitFeatures` ``(N, D)``; every row must carry a label."""
    features, info = read_features(path)
    labels = np.asarray(info.get("labels", []), dtype=np.int64)
    if labels.shape != (len(features),) or (labels < 0).any():
        raise ValueError(
            f"{path}: needs one label >= 0 per row (rows embedded from loose files have none); "
            "embed a prepared split: skeletonmae embed CHECKPOINT DATASET --split NAME --out FILE.npy"
        )
    splits = set(info.get("splits") or [])
    name = splits.pop() if len(splits) == 1 else Path(path).stem
    names = tuple(info.get("names") or (f"{name}_{i}" for i in range(len(labels))))
    return SplitFeatures(features.astype(np.float32), labels, names, name), info


def read_feature_splits(
    train_path: str | os.PathLike[str], test_path: str | os.PathLike[str]
) -> tuple[SplitFeatures, SplitFeatures, int]:
    """The rows of two labelled feature files (``skeletonmae embed ... --split NAME``) and the
    number of classes: the training sidecar's ``class_names``, else the largest label + 1."""
    train, info = _labelled_split(train_path)
    test, _ = _labelled_split(test_path)
    if train.features.shape[1] != test.features.shape[1]:
        raise ValueError(
            f"{train_path} holds {train.features.shape[1]} values per row, {test_path} "
            f"{test.features.shape[1]}; embed both splits with the same checkpoint and --pool"
        )
    num_classes = len(info.get("class_names") or []) or int(max(train.labels.max(), test.labels.max())) + 1
    return train, test, num_classes
