"""Read any supported format into :class:`SkeletonSamples` per split, write any, convert between them:
``prepared``, ``ctrgcn-npz``, ``stgcn`` (a folder of ``*_data_joint.npy`` + ``*_label.pkl``, or one
``.npy``), ``pyskl``, ``generic-npz``, and read only ``nw-ucla``, ``openpose-json`` and ``bvh``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from skeletonmae.data.checks import DataWarning, check_splits
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.bvh import read_bvh_folder
from skeletonmae.data.formats.ctrgcn import read_ctrgcn_npz, write_ctrgcn_npz
from skeletonmae.data.formats.generic import read_generic_npz, write_generic_npz
from skeletonmae.data.formats.nw_ucla import read_nw_ucla_folder
from skeletonmae.data.formats.openpose import is_openpose_folder, read_openpose_folder
from skeletonmae.data.formats.pyskl import read_pyskl, write_pyskl
from skeletonmae.data.formats.stgcn import read_stgcn, read_stgcn_folder, write_stgcn
from skeletonmae.data.normalize import Normalization, normalize_samples
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import MANIFEST, dataset_splits, load_split, to_samples, write_dataset
from skeletonmae.data.windows import window_samples


def _read_stgcn(path: Path, **options: Any) -> dict[str, SkeletonSamples]:
    """A folder, or one ``.npy`` with the ``_label.pkl`` beside it when there is one."""
    if path.is_dir():
        return read_stgcn_folder(path, **options)
    label = path.with_name(path.name.split("_data")[0] + "_label.pkl")
    split = "test" if path.name.startswith(("val", "test")) else "train"
    return {split: read_stgcn(path, label if label.is_file() and label != path else None, **options)}


class ConversionResult(NamedTuple):
    """Samples written per split and the warnings about the data."""

    counts: dict[str, int]
    warnings: list[DataWarning]


READERS: dict[str, Callable[..., dict[str, SkeletonSamples]]] = {
    "prepared": lambda path, **_: {
        name: to_samples(load_split(path / name)) for name in dataset_splits(path)
    },
    "ctrgcn-npz": read_ctrgcn_npz,
    "stgcn": _read_stgcn,
    "pyskl": read_pyskl,
    "generic-npz": lambda path, layout=None, **_: read_generic_npz(path, layout),
    "nw-ucla": lambda path, **_: read_nw_ucla_folder(path),
    "openpose-json": lambda path, **_: read_openpose_folder(path),
    "bvh": lambda path, **options: read_bvh_folder(path, **options)[0],
}
WRITERS: dict[str, Callable[[Path, dict[str, SkeletonSamples]], Path]] = {
    "prepared": write_dataset,
    "ctrgcn-npz": write_ctrgcn_npz,
    "stgcn": write_stgcn,
    "pyskl": write_pyskl,
    "generic-npz": write_generic_npz,
}
FORMATS: tuple[str, ...] = tuple(READERS)
WRITABLE: tuple[str, ...] = tuple(WRITERS)
SUFFIXES = {".bvh": "bvh", ".pkl": "pyskl", ".npy": "stgcn"}


def read_samples(path: str | Path, fmt: str | None = None, **options: Any) -> dict[str, SkeletonSamples]:
    """Read ``path`` (format detected unless ``fmt`` is given) into samples per split."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in READERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return READERS[fmt](path, **options)


def write_samples(path: str | Path, splits: Mapping[str, SkeletonSamples], fmt: str) -> Path:
    """Write ``splits`` in format ``fmt``."""
    if fmt not in WRITERS:
        raise ValueError(f"cannot write format {fmt!r}; choose one of {', '.join(WRITABLE)}")
    return WRITERS[fmt](Path(path), dict(splits))


def detect_format(path: str | Path) -> str:
    """Guess the format of ``path`` from its kind, suffix and (for ``.npz``) its keys."""
    path = Path(path)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return "prepared"
        if any(path.glob("*_data*.npy")):
            return "stgcn"
        if any(path.glob("a??_s??_e??_v??.json")):
            return "nw-ucla"
        if is_openpose_folder(path):
            return "openpose-json"
        if any(path.rglob("*.bvh")):
            return "bvh"
        raise DataFormatError(
            path,
            "folder of unknown format: expected manifest.json (prepared), *_data*.npy (ST-GCN), "
            "aXX_sXX_eXX_vXX.json (NW-UCLA), <class>/<video>/*_keypoints.json (OpenPose) or *.bvh; "
            "pass the format explicitly",
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; pass an existing file or folder")
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                keys = set(archive.files)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DataFormatError(path, f"not a readable .npz archive ({error})") from error
        if "x_train" in keys:
            return "ctrgcn-npz"
        if "data" in keys:
            return "generic-npz"
        raise DataFormatError(
            path,
            f"unknown .npz content (keys {sorted(keys)}): expected x_train/y_train "
            "(CTR-GCN) or data/labels (generic)",
        )
    raise DataFormatError(
        path, f"unknown file type {suffix!r}; pass the format explicitly ({', '.join(FORMATS)})"
    )


def convert(
    src: str | Path,
    dst: str | Path,
    *,
    src_format: str | None = None,
    dst_format: str = "prepared",
    strict: bool = False,
    normalization: Normalization = Normalization(),
    trim: bool = False,
    window: tuple[int, int] | None = None,
    **read_options: Any,
) -> ConversionResult:
    """Convert ``src`` to ``dst``: read, cut into ``window`` ``(frames, stride)`` clips, ``normalization``
    and ``trim`` (recorded in a prepared dataset), check (the warnings go into its manifest;
    ``strict`` refuses to write with any), write. Returns the counts per split and the warnings."""
    fmt = src_format or detect_format(src)
    skipped: list[tuple[str, str]] = []
    if fmt == "bvh":  # a folder of recordings: unreadable files are skipped and listed
        splits, skipped = read_bvh_folder(src, **read_options)
    else:
        splits = read_samples(src, fmt, **read_options)
    if window is not None:
        splits = {name: window_samples(s, *window) for name, s in splits.items()}
    if trim or not normalization.is_identity:
        splits = {name: normalize_samples(s, normalization, trim) for name, s in splits.items()}
    warnings = check_splits(splits) + _skipped_warnings(skipped)
    if strict and warnings:
        listed = "\n  ".join(str(w) for w in warnings)
        raise DataFormatError(Path(src), f"{len(warnings)} warning(s) under --strict:\n  {listed}")
    if dst_format != "prepared":
        write_samples(dst, splits, dst_format)
    else:
        meta: dict[str, Any] = {}
        if not normalization.is_identity:
            meta["normalization"] = normalization.to_dict()
        if window is not None:
            meta["windows"] = {"frames": window[0], "stride": window[1]}
        if skipped:
            meta["skipped"] = [{"path": path, "reason": reason} for path, reason in skipped]
        write_dataset(
            dst, splits, {"source_format": fmt, "warnings": [w.to_dict() for w in warnings]}, **meta
        )
    return ConversionResult({name: samples.num_samples for name, samples in splits.items()}, warnings)


def _skipped_warnings(skipped: list[tuple[str, str]]) -> list[DataWarning]:
    if not skipped:
        return []
    reasons = "; ".join(reason for _, reason in skipped[:3])
    message = f"{len(skipped)} file(s) could not be read and were left out ({reasons})"
    names = tuple(Path(path).name for path, _ in skipped[:5])
    return [DataWarning("skipped_files", "", message, names, len(skipped))]
