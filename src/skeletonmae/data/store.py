"""The prepared dataset that training reads: one folder per split plus ``manifest.json``.

::

    root/
      manifest.json         settings, counts, skipped files with reasons (written last)
      train/ test/          one folder per split:
        data.npy            float32 or float16 (N, C, T, V, M), memory-mappable
        labels.npy          int64 (N,), 0-based (-1 unlabelled)
        lengths.npy         int64 (N,), valid frames per sample
        names.json          N sample names
        meta.json           layout, num_classes, class_names, num_persons, max_frames, ... (written last)

A split is built in a hidden staging folder beside its target and renamed into place once complete,
so an interrupted run never leaves a split that loads.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.atomic import write_json_atomic
from skeletonmae.data.channels import check_channels
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.layouts import layout_definition, register_layout_definition
from skeletonmae.data.samples import SkeletonSamples

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SplitArrays:
    """A loaded split: ``data`` ``(N, C, T, V, M)`` (a read-only memmap by default), ``labels`` /
    ``lengths`` ``(N,)`` int64, ``names`` and the ``meta`` dict of ``meta.json``."""

    data: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    names: tuple[str, ...]
    meta: dict[str, Any]
    folder: Path

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.meta["num_classes"])

    @property
    def layout(self) -> str:
        return str(self.meta["layout"])

    @property
    def channels(self) -> str:
        """``meta.json`` ``channels`` (older folders: the default for C)."""
        return check_channels(str(self.meta.get("channels", "")), int(self.data.shape[1]))


class SplitWriter:
    """Write one split of ``num_samples`` samples ``(C, T, V, M)`` without holding it in memory: in a
    ``with`` block, fill ``writer.data[i]`` (a memmap), then :meth:`commit`; leaving the block
    without committing (an error, an interrupt) removes the staging folder."""

    def __init__(
        self, folder: str | os.PathLike, num_samples: int, shape: tuple[int, ...], dtype: str = "float32"
    ):
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype {dtype!r}: choose float32 or float16")
        self.folder = Path(folder)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.staging-", dir=self.folder.parent))
        self.data = np.lib.format.open_memmap(
            self.staging / "data.npy", mode="w+", dtype=np.dtype(dtype), shape=(num_samples, *shape)
        )
        self._committed = False

    def __enter__(self) -> SplitWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._committed:
            self.data = None  # type: ignore[assignment]  # release the memmap before deleting
            shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, labels: np.ndarray, lengths: np.ndarray, names: Sequence[str], meta: Mapping) -> Path:
        """Write labels, lengths, names and ``meta.json``, then swap the staging folder into place."""
        self.data.flush()
        self.data = None  # type: ignore[assignment]
        np.save(self.staging / "labels.npy", np.asarray(labels, dtype=np.int64))
        np.save(self.staging / "lengths.npy", np.asarray(lengths, dtype=np.int64))
        (self.staging / "names.json").write_text(json.dumps(list(names)), encoding="utf-8")
        write_json_atomic(self.staging / "meta.json", dict(meta))
        _swap_into_place(self.staging, self.folder)
        self._committed = True
        return self.folder


def _swap_into_place(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_split(folder: str | os.PathLike, samples: SkeletonSamples, **extra_meta: Any) -> Path:
    """Write an in-memory :class:`SkeletonSamples` as a split folder (atomically); ``extra_meta``
    (benchmark, source, ...) joins its ``meta.json``."""
    _, channels, frames, joints, persons = samples.data.shape
    meta = {
        "format_version": FORMAT_VERSION,
        "layout": samples.layout,
        "channels": samples.channels,
        "num_classes": samples.num_classes,
        "class_names": list(samples.class_names),
        "num_samples": samples.num_samples,
        "num_channels": channels,
        "max_frames": frames,
        "num_joints": joints,
        "num_persons": persons,
        "dtype": str(samples.data.dtype),
        "benchmark": None,
    }
    definition = layout_definition(samples.layout)
    if definition is not None:  # a user's layout file travels with the data
        meta["layout_definition"] = definition
    meta.update(extra_meta)
    dtype = "float16" if samples.data.dtype == np.float16 else "float32"
    with SplitWriter(folder, samples.num_samples, samples.data.shape[1:], dtype) as writer:
        for start in range(0, samples.num_samples, 256):  # chunks: the source may be a lazy view or memmap
            writer.data[start : start + 256] = samples.data[start : start + 256]
        return writer.commit(samples.labels, samples.lengths, samples.names, meta)


def load_split(folder: str | os.PathLike, mmap: bool = True) -> SplitArrays:
    """Load a split folder; ``mmap=True`` maps ``data.npy`` read-only instead of reading it."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DataFormatError(
            folder, "not a prepared split (no meta.json); run `skeletonmae prepare` to build the dataset"
        )
    meta = _read_json(meta_path, dict)
    for key in ("layout", "num_classes", "class_names"):
        if key not in meta:
            raise DataFormatError(meta_path, f"missing {key!r}; re-run `skeletonmae prepare`", key=key)
    try:
        register_layout_definition(meta.get("layout_definition"), str(meta_path))
    except ValueError as error:
        raise DataFormatError(meta_path, str(error), key="layout_definition") from None
    data = _load_npy(folder / "data.npy", mmap)
    if data.ndim != 5:
        raise DataFormatError(folder / "data.npy", f"expected (N, C, T, V, M), got shape {data.shape}")
    labels = _load_npy(folder / "labels.npy", False)
    lengths = _load_npy(folder / "lengths.npy", False)
    names = tuple(_read_json(folder / "names.json", list))
    count = data.shape[0]
    sizes = {"labels.npy": len(labels), "lengths.npy": len(lengths), "names.json": len(names)}
    for path, size in sizes.items():
        if size != count:
            raise DataFormatError(
                folder / path,
                f"{size} entries but data.npy has {count} samples; "
                "the split is inconsistent, prepare it again",
            )
    return SplitArrays(data, labels.astype(np.int64), lengths.astype(np.int64), names, meta, folder)


def to_samples(split: SplitArrays) -> SkeletonSamples:
    """A loaded split as :class:`SkeletonSamples` (the data stays memory-mapped if it was)."""
    return SkeletonSamples(
        split.data,
        split.labels,
        split.names,
        split.lengths,
        split.layout,
        tuple(split.meta["class_names"]),
        split.channels,
    )


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise DataFormatError(path, "missing; the split is incomplete, prepare it again")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as error:
        raise DataFormatError(path, f"not a readable .npy array ({error}); prepare it again") from error


def _read_json(path: Path, kind: type) -> Any:
    if not path.is_file():
        raise DataFormatError(path, "missing; the split is incomplete, prepare it again")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(
            path, f"invalid JSON ({error.msg}); prepare it again", line=error.lineno
        ) from error
    if not isinstance(value, kind):
        raise DataFormatError(path, f"expected a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def write_manifest(root: str | os.PathLike, manifest: Mapping[str, Any]) -> Path:
    """Write ``root/manifest.json`` atomically (``format_version`` is added)."""
    return write_json_atomic(Path(root) / MANIFEST, {"format_version": FORMAT_VERSION, **manifest})


def read_manifest(root: str | os.PathLike) -> dict[str, Any]:
    """Read ``root/manifest.json``."""
    root = Path(root)
    if not (root / MANIFEST).is_file():
        raise DataFormatError(root, "no manifest.json: not a prepared dataset (run `skeletonmae prepare`)")
    return _read_json(root / MANIFEST, dict)


def dataset_splits(root: str | os.PathLike) -> list[str]:
    """Names of the split folders of a prepared dataset (those holding ``meta.json``), sorted."""
    return sorted(p.name for p in Path(root).iterdir() if is_split_folder(p) and not p.name.startswith("."))


def is_split_folder(path: str | os.PathLike) -> bool:
    """A prepared split folder (it holds ``meta.json``)."""
    return (Path(path) / "meta.json").is_file()


def is_prepared_dataset(path: str | os.PathLike) -> bool:
    """A prepared dataset root: a folder with ``manifest.json`` or at least one split folder."""
    root = Path(path)
    return root.is_dir() and ((root / MANIFEST).is_file() or bool(dataset_splits(root)))


def read_dataset_meta(root: str | os.PathLike) -> dict[str, Any]:
    """What a dataset records about itself: ``train/meta.json``, else ``manifest.json``, else ``{}``."""
    for candidate in (Path(root) / "train" / "meta.json", Path(root) / MANIFEST):
        if candidate.is_file():
            return _read_json(candidate, dict)
    return {}


def write_dataset(
    root: str | os.PathLike,
    splits: Mapping[str, SkeletonSamples],
    manifest: Mapping | None = None,
    **meta: Any,
) -> Path:
    """Write several in-memory splits and a manifest (``manifest``, the counts per split, then
    ``meta``, which also joins every split's ``meta.json``)."""
    root = Path(root)
    for name, samples in splits.items():
        write_split(root / name, samples, **meta)
    counts = {name: samples.num_samples for name, samples in splits.items()}
    write_manifest(root, {**(manifest or {}), "counts": counts, **meta})
    return root
