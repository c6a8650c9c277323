"""The generic format for users' own skeletons, one ``.npz`` (no pickles; docs/data.md): ``data``
(required) float ``(N, C, T, V, M)`` zero-padded to a common ``T``; ``labels`` (required) int ``(N,)``,
0-based, -1 unlabelled; optional ``lengths`` int ``(N,)`` (default: up to the last non-zero frame),
``names`` (default ``sample_00000``...), ``split`` (default all ``train``) str ``(N,)``, ``class_names``
str ``(K,)``, ``layout`` (default: by joint count) and ``channels`` (``xyz``, ``xy``, ``xy_score``,
``xyz_score``; default ``xyz`` for C = 3, ``xy`` for C = 2).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from skeletonmae.atomic import save_npz_atomic
from skeletonmae.data.channels import check_channels
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.layouts import get_layout, layout_for_joint_count
from skeletonmae.data.samples import SkeletonSamples

REQUIRED_KEYS = ("data", "labels")
OPTIONAL_KEYS = ("lengths", "names", "split", "class_names", "layout", "channels")


def read_generic_npz(path: str | Path, layout: str | None = None) -> dict[str, SkeletonSamples]:
    """One :class:`SkeletonSamples` per split; ``layout`` (a name) overrides the archive's ``layout``."""
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataFormatError(path, f"not a readable .npz archive without pickles ({error})") from error
    with archive:
        unknown = sorted(set(archive.files) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
        if unknown:
            raise DataFormatError(
                path, f"unknown key(s); allowed: {REQUIRED_KEYS + OPTIONAL_KEYS}", key=unknown[0]
            )
        for key in REQUIRED_KEYS:
            if key not in archive.files:
                raise DataFormatError(
                    path, "missing; a generic archive needs 'data' (N, C, T, V, M) and 'labels' (N,)", key=key
                )
        fields = {key: archive[key] for key in archive.files}
    data = fields["data"]
    if data.ndim != 5 or not np.issubdtype(data.dtype, np.floating):
        raise DataFormatError(
            path, f"expected float (N, C, T, V, M), got {data.dtype} {data.shape}", key="data"
        )
    if not np.isfinite(data).all():
        raise DataFormatError(path, "non-finite values (NaN or inf)", key="data")
    count = data.shape[0]
    for key in ("labels", "lengths", "names", "split"):
        if key in fields and fields[key].shape != (count,):
            raise DataFormatError(path, f"expected shape ({count},), got {fields[key].shape}", key=key)
    try:
        name = layout or (str(fields["layout"]) if "layout" in fields else None)
        chosen = get_layout(name) if name else layout_for_joint_count(data.shape[3])
    except ValueError as error:
        raise DataFormatError(path, str(error), key="layout") from None
    if chosen.num_joints != data.shape[3]:
        raise DataFormatError(
            path,
            f"layout {chosen.name} has {chosen.num_joints} joints, data has {data.shape[3]}",
            key="layout",
        )
    try:
        channels = check_channels(str(fields.get("channels", "")), data.shape[1])
    except ValueError as error:
        raise DataFormatError(path, str(error), key="channels") from None
    split = fields["split"].astype(str) if "split" in fields else np.full(count, "train")
    samples = SkeletonSamples.from_arrays(
        data,
        fields["labels"],
        names=[str(n) for n in fields["names"]] if "names" in fields else None,
        lengths=fields.get("lengths"),
        layout=chosen.name,
        class_names=tuple(str(n) for n in fields["class_names"]) if "class_names" in fields else None,
        channels=channels,
    )
    order = dict.fromkeys(split.tolist())  # the splits in order of first appearance
    return {str(name): samples.select(np.flatnonzero(split == name)) for name in order}


def write_generic_npz(path: str | Path, splits: Mapping[str, SkeletonSamples]) -> Path:
    """Write splits (same layout, classes and shape) into one generic archive."""
    parts = list(splits.items())
    if not parts:
        raise ValueError("nothing to write: no splits given")
    first = parts[0][1]
    for name, samples in parts:
        if samples.data.shape[1:] != first.data.shape[1:] or samples.layout != first.layout:
            raise ValueError(
                f"split {name!r} differs in shape or layout from {parts[0][0]!r}; write them separately"
            )
    return save_npz_atomic(
        path,
        data=np.concatenate([np.asarray(s.data, np.float32) for _, s in parts]),
        labels=np.concatenate([s.labels for _, s in parts]),
        lengths=np.concatenate([s.lengths for _, s in parts]),
        names=np.array([n for _, s in parts for n in s.names], dtype=str),
        split=np.array([name for name, s in parts for _ in range(s.num_samples)], dtype=str),
        class_names=np.array(first.class_names, dtype=str),
        layout=np.array(first.layout),
        channels=np.array(first.channels),
    )
