"""Summaries of one raw file or dataset (what ``skeletonmae inspect`` prints): frames, bodies,
joints, value ranges, and the warnings of :mod:`skeletonmae.data.checks`. Value ranges of large
datasets come from an evenly spaced subset of samples; the checks read every sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.data.checks import check_splits
from skeletonmae.data.formats.convert import detect_format, read_samples
from skeletonmae.data.formats.nw_ucla import read_nw_ucla_file
from skeletonmae.data.ntu_raw import parse_skeleton_file
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import read_manifest

MAX_SCANNED_SAMPLES = 512
MANIFEST_FACTS = ("benchmark", "counts", "num_skipped", "settings")  # what inspect shows of a manifest
AXES = ("x", "y", "z")


def _ranges(values: np.ndarray) -> dict[str, list[float]]:
    """``{axis: [min, max]}`` over ``values`` ``(..., C)``."""
    if values.size == 0:
        return {}
    flat = values.reshape(-1, values.shape[-1])
    names = AXES[: flat.shape[1]] if flat.shape[1] <= 3 else tuple(f"c{i}" for i in range(flat.shape[1]))
    return {name: [float(flat[:, i].min()), float(flat[:, i].max())] for i, name in enumerate(names)}


def describe_skeleton_file(path: Path) -> dict[str, Any]:
    raw = parse_skeleton_file(path)
    joints = [body.joints for body in raw.bodies]
    return {
        "path": str(path),
        "format": "ntu-skeleton",
        "name": raw.name,
        "frames": raw.num_frames,
        "empty_frames": int((raw.bodies_per_frame == 0).sum()),
        "max_bodies_in_a_frame": int(raw.bodies_per_frame.max()),
        "joints": int(joints[0].shape[1]) if joints else 0,
        "bodies": [
            {
                "body_id": body.body_id,
                "frames": body.num_frames,
                "first_frame": int(body.frames[0]),
                "last_frame": int(body.frames[-1]),
                "tracked_joint_fraction": round(float((body.joint_tracking == 2).mean()), 4),
            }
            for body in raw.bodies
        ],
        "value_range": _ranges(np.concatenate(joints)) if joints else {},
    }


def describe_nw_ucla_file(path: Path) -> dict[str, Any]:
    sequence = read_nw_ucla_file(path)
    return {
        "path": str(path),
        "format": "nw-ucla-json",
        "name": sequence.name,
        "frames": int(sequence.joints.shape[0]),
        "bodies": 1,
        "joints": int(sequence.joints.shape[1]),
        "label": sequence.label,
        "view": sequence.view,
        "value_range": _ranges(sequence.joints),
    }


def describe_samples(samples: SkeletonSamples) -> dict[str, Any]:
    """Counts, shape, valid frames, persons present and value ranges (from a subset if large)."""
    count, lengths = samples.num_samples, samples.lengths
    scanned = min(count, MAX_SCANNED_SAMPLES)  # evenly spaced rows
    rows = np.unique(np.linspace(0, count - 1, scanned).astype(np.int64)) if count else []
    joints = np.moveaxis(np.asarray(samples.data[rows], dtype=np.float32), 1, -1)  # (n, T, V, M, C)
    persons = joints.any(axis=(1, 2, 4)).sum(axis=1)  # (n,) persons present
    summary: dict[str, Any] = {
        "samples": count,
        "shape_NCTVM": list(samples.data.shape),
        "dtype": str(samples.data.dtype),
        "layout": samples.layout,
        "num_classes": samples.num_classes,
        "labelled": int((samples.labels >= 0).sum()),
        "frames_valid": {},
        "persons_present": {},
        "value_range": _ranges(joints[joints.any(axis=-1)]),
        "scanned_samples": len(rows),
    }
    if count:
        mean = round(float(lengths.mean()), 2)
        summary["frames_valid"] = {"min": int(lengths.min()), "mean": mean, "max": int(lengths.max())}
        summary["persons_present"] = {"mean": round(float(persons.mean()), 3), "max": int(persons.max())}
    return summary


def describe_path(path: str | Path) -> dict[str, Any]:
    """Summary of a ``.skeleton`` file, an NW-UCLA ``.json`` file, or any dataset format."""
    path = Path(path)
    if path.suffix == ".skeleton":
        return describe_skeleton_file(path)
    if path.suffix == ".json" and path.is_file():
        return describe_nw_ucla_file(path)
    fmt = detect_format(path)
    summary: dict[str, Any] = {"path": str(path), "format": fmt}
    if fmt == "prepared":
        manifest = read_manifest(path)
        summary["manifest"] = {key: manifest[key] for key in MANIFEST_FACTS if key in manifest}
    splits = read_samples(path, fmt)
    summary["splits"] = {name: describe_samples(samples) for name, samples in splits.items()}
    summary["warnings"] = [str(warning) for warning in check_splits(splits)]
    return summary


def format_summary(summary: dict[str, Any], indent: int = 0) -> str:
    """Human-readable, indented ``key: value`` lines."""
    lines = []
    pad = "  " * indent
    for key, value in summary.items():
        if isinstance(value, dict) and value and key != "value_range":
            lines.append(f"{pad}{key}:")
            lines.append(format_summary(value, indent + 1))
        elif key == "value_range" and isinstance(value, dict):
            ranges = ", ".join(f"{axis} [{low:.3f}, {high:.3f}]" for axis, (low, high) in value.items())
            lines.append(f"{pad}{key}: {ranges or 'n/a'}")
        elif key == "warnings":
            lines.append(f"{pad}warnings: {len(value) or 'none'}")
            lines.extend(f"{pad}  ! {warning}" for warning in value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{pad}{key}:")
            for item in value:
                lines.append(f"{pad}  - " + ", ".join(f"{k}={v}" for k, v in item.items()))
        else:
            lines.append(f"{pad}{key}: {value}")
    return "\n".join(line for line in lines if line)
