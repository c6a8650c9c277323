"""CTR-GCN's ``NTU60_CS.npz``-style files: ``x_train`` ``(N, T, M*V*C)`` with one-hot ``y_train``,
the same for test. The feature axis is ordered person, joint, coordinate (CTR-GCN reshapes it to
``(N, T, M, V, C)``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from skeletonmae.atomic import save_npz_atomic
from skeletonmae.data.classes import default_class_names
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.samples import SkeletonSamples

SPLIT_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
ALL_KEYS = sorted(key for pair in SPLIT_KEYS.values() for key in pair)


def read_ctrgcn_npz(path: str | Path, *, layout: str = "ntu25") -> dict[str, SkeletonSamples]:
    """Read the train and test splits as ``(N, 3, T, V, M)`` views of the file's arrays."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataFormatError(path, f"not a readable .npz archive ({error})") from error
    splits, num_classes = {}, 0
    with archive:
        for split, (x_key, y_key) in SPLIT_KEYS.items():
            missing = [key for key in (x_key, y_key) if key not in archive.files]
            if missing:
                raise DataFormatError(path, f"missing; a CTR-GCN file holds {ALL_KEYS}", key=missing[0])
            data = _unflatten(archive[x_key], path, x_key, get_layout(layout).num_joints)
            targets = archive[y_key]
            labels = _labels(targets, path, y_key, data.shape[0])
            splits[split] = (data, labels)
            num_classes = max(num_classes, targets.shape[1] if targets.ndim == 2 else int(labels.max()) + 1)
    names = default_class_names(num_classes, layout)
    return {
        split: SkeletonSamples.from_arrays(data, labels, layout=layout, class_names=names, name_prefix=split)
        for split, (data, labels) in splits.items()
    }


def _unflatten(features: np.ndarray, path: Path, key: str, num_joints: int) -> np.ndarray:
    if features.ndim != 3 or features.shape[2] % (num_joints * 3):
        raise DataFormatError(
            path,
            f"expected (N, T, M*{num_joints}*3), got shape {features.shape}; pass the right layout",
            key=key,
        )
    count, frames, width = features.shape
    persons = width // (num_joints * 3)
    data = features.reshape(count, frames, persons, num_joints, 3).transpose(0, 4, 1, 3, 2)
    return data if data.dtype in (np.float32, np.float16) else data.astype(np.float32)


def _labels(targets: np.ndarray, path: Path, key: str, count: int) -> np.ndarray:
    if targets.shape[0] != count or targets.ndim not in (1, 2):
        raise DataFormatError(
            path, f"expected {count} one-hot rows or labels, got shape {targets.shape}", key=key
        )
    return (np.argmax(targets, axis=1) if targets.ndim == 2 else targets).astype(np.int64)


def write_ctrgcn_npz(path: str | Path, splits: Mapping[str, SkeletonSamples]) -> Path:
    """Write ``train`` and ``test`` splits as a CTR-GCN ``.npz`` (one-hot labels; unlabelled -> zero rows)."""
    arrays = {}
    for split, (x_key, y_key) in SPLIT_KEYS.items():
        if split not in splits:
            raise ValueError(f"a CTR-GCN file needs a {split!r} split; got {sorted(splits)}")
        samples = splits[split]
        count, channels, frames, joints, persons = samples.data.shape
        flat = np.asarray(samples.data).transpose(0, 2, 4, 3, 1)  # (N, T, M, V, C)
        flat = flat.reshape(count, frames, persons * joints * channels)  # (N, T, M*V*C)
        one_hot = np.zeros((count, samples.num_classes), dtype=np.float32)
        labelled = samples.labels >= 0
        one_hot[np.flatnonzero(labelled), samples.labels[labelled]] = 1.0
        arrays[x_key], arrays[y_key] = flat.astype(np.float32), one_hot
    return save_npz_atomic(path, **arrays)
