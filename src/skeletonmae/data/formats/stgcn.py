"""ST-GCN's layout: ``{split}_data_joint.npy`` ``(N, C, T, V, M)`` float32 beside ``{split}_label.pkl``
holding ``(sample_names, labels)``. The pickle is read with the restricted unpickler."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from skeletonmae.atomic import save_npy_atomic
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.restricted_pickle import load_restricted_pickle, save_pickle_atomic
from skeletonmae.data.layouts import layout_for_joint_count
from skeletonmae.data.samples import SkeletonSamples

FILE_SPLITS = {"train": "train", "val": "test", "test": "test"}  # ST-GCN calls the test split "val"


def read_stgcn(
    npy_path: str | Path, label_path: str | Path | None = None, *, layout: str | None = None
) -> SkeletonSamples:
    """One split ``(N, C, T, V, M)`` (a single sample ``(C, T, V, M)`` is accepted too); without
    ``label_path`` the samples are unlabelled (label -1)."""
    npy_path = Path(npy_path)
    try:
        data = np.load(npy_path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataFormatError(npy_path, f"not a readable .npy array ({error})") from error
    if data.ndim == 4:
        data = data[None]
    if data.ndim != 5:
        raise DataFormatError(npy_path, f"expected (N, C, T, V, M) or (C, T, V, M), got shape {data.shape}")
    layout = layout or layout_for_joint_count(data.shape[3]).name
    names, labels = (None, None) if label_path is None else _read_labels(Path(label_path), data.shape[0])
    return SkeletonSamples.from_arrays(data, labels, names=names, layout=layout, name_prefix=npy_path.stem)


def _read_labels(path: Path, count: int) -> tuple[list[str], np.ndarray]:
    content = load_restricted_pickle(path)
    if not isinstance(content, (tuple, list)) or len(content) != 2:
        raise DataFormatError(path, "expected a pickle of (sample_names, labels)")
    names, labels = content
    if len(names) != count or len(labels) != count:
        raise DataFormatError(
            path, f"{len(names)} names and {len(labels)} labels for {count} samples in the .npy"
        )
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataFormatError(path, "labels must be integers") from None
    return [str(name) for name in names], label_array


def read_stgcn_folder(folder: str | Path, layout: str | None = None) -> dict[str, SkeletonSamples]:
    """Every ``{train,val,test}_data*.npy`` of ``folder`` with its ``_label.pkl``; shared class names."""
    folder = Path(folder)
    splits: dict[str, SkeletonSamples] = {}
    for npy in sorted(folder.glob("*_data*.npy")):
        prefix = npy.name.split("_data")[0]
        if prefix in FILE_SPLITS:
            label = folder / f"{prefix}_label.pkl"
            splits[FILE_SPLITS[prefix]] = read_stgcn(npy, label if label.is_file() else None, layout=layout)
    if not splits:
        raise DataFormatError(
            folder, "no train_data*.npy / val_data*.npy found; point at an ST-GCN data folder"
        )
    widest = max(splits.values(), key=lambda samples: samples.num_classes)
    return {key: dataclasses.replace(s, class_names=widest.class_names) for key, s in splits.items()}


def write_stgcn(folder: str | Path, splits: Mapping[str, SkeletonSamples]) -> Path:
    """Write ``train_data_joint.npy`` / ``train_label.pkl`` and ``val_...`` (for the test split)."""
    folder = Path(folder)
    for split, samples in splits.items():
        prefix = "val" if split == "test" else split
        save_npy_atomic(folder / f"{prefix}_data_joint.npy", np.asarray(samples.data, dtype=np.float32))
        labels = (list(samples.names), [int(label) for label in samples.labels])
        save_pickle_atomic(folder / f"{prefix}_label.pkl", labels)
    return folder
