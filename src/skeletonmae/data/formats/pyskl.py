"""pyskl's annotation pickles (read with the restricted unpickler): ``{"split": {"xsub_train":
[frame_dir, ...], ...}, "annotations": [...]}``, each annotation with ``frame_dir`` (the name),
``label``, ``total_frames``, ``keypoint`` ``(M, T, V, C)`` and optionally ``keypoint_score``
``(M, T, V)``; a bare list of annotations or one annotation dict is read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.data.classes import default_class_names
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.restricted_pickle import load_restricted_pickle, save_pickle_atomic
from skeletonmae.data.layouts import layout_for_joint_count
from skeletonmae.data.samples import SkeletonSamples

TEST_SUFFIXES = ("_val", "_test")


def read_pyskl(
    path: str | Path, *, split_prefix: str | None = None, layout: str | None = None, with_score: bool = False
) -> dict[str, SkeletonSamples]:
    """Read the ``train`` / ``test`` splits named ``{split_prefix}_train`` / ``{split_prefix}_val``
    (without a ``split`` entry every annotation lands in ``train``). ``with_score`` appends the keypoint
    scores as an extra channel. Every sample gets the most persons of any sample (zeros when absent)."""
    path = Path(path)
    annotations, split_lists = _annotations(load_restricted_pickle(path), path)
    if not annotations:
        raise DataFormatError(path, "no annotations in the file", key="annotations")
    keypoints = [a["keypoint"] for a in annotations if isinstance(a, dict) and "keypoint" in a]
    persons = max((len(keypoint) for keypoint in keypoints), default=1)
    by_name = dict(_sample(a, index, path, persons, with_score) for index, a in enumerate(annotations))
    chosen = _choose_splits(split_lists, split_prefix, path) if split_lists else {"train": list(by_name)}
    channels, _, joints, _ = next(iter(by_name.values()))[1].shape  # (C, T, V, M)
    layout = layout or layout_for_joint_count(joints).name
    class_names = default_class_names(max(label for label, _ in by_name.values()) + 1, layout)
    frames = max(sample.shape[1] for _, sample in by_name.values())
    splits = {}
    for split, names in chosen.items():
        missing = [name for name in names if name not in by_name]
        if missing:
            raise DataFormatError(
                path,
                f"split {split} lists {len(missing)} unknown frame_dir(s), e.g. {missing[0]!r}",
                key="split",
            )
        labels = [by_name[name][0] for name in names]
        samples = [by_name[name][1] for name in names]  # (C, T, V, M) each
        splits[split] = SkeletonSamples.from_sequences(
            samples, labels, names, layout, class_names, shape=(channels, joints, persons), frames=frames
        )
    return splits


def _annotations(content: Any, path: Path) -> tuple[list[dict], dict[str, list[str]] | None]:
    if isinstance(content, dict) and "annotations" in content:
        split = content.get("split")
        if split is not None and not isinstance(split, dict):
            raise DataFormatError(path, "expected a dict of split name -> list of frame_dir", key="split")
        return list(content["annotations"]), split
    if isinstance(content, dict) and "keypoint" in content:
        return [content], None
    if isinstance(content, list) and all(isinstance(item, dict) for item in content):
        return content, None
    raise DataFormatError(
        path,
        "expected a pyskl annotation file: a dict with 'annotations' (and 'split'), "
        "a list of annotation dicts, or one annotation dict",
    )


def _sample(
    annotation: dict, index: int, path: Path, num_persons: int, with_score: bool
) -> tuple[str, tuple[int, np.ndarray]]:
    """``(name, (label, (C, T, V, M)))`` of one annotation."""
    for key in ("keypoint", "label", "frame_dir"):
        if key not in annotation:
            raise DataFormatError(
                path, f"annotation {index} has no {key!r}", key=f"annotations[{index}].{key}"
            )
    keypoint = np.asarray(annotation["keypoint"], dtype=np.float32)
    if keypoint.ndim != 4 or keypoint.shape[1] == 0:
        raise DataFormatError(
            path,
            f"expected keypoint (M, T, V, C) with T > 0, got {keypoint.shape}",
            key=f"annotations[{index}].keypoint",
        )
    if not np.isfinite(keypoint).all():
        raise DataFormatError(path, "non-finite keypoint values", key=f"annotations[{index}].keypoint")
    if with_score and "keypoint_score" in annotation:
        score = np.asarray(annotation["keypoint_score"], dtype=np.float32)[..., None]
        keypoint = np.concatenate([keypoint, score], axis=-1)
    label = annotation["label"]
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
        raise DataFormatError(
            path, f"label must be a non-negative integer, got {label!r}", key=f"annotations[{index}].label"
        )
    persons = keypoint[:num_persons]
    sample = np.zeros((keypoint.shape[3], keypoint.shape[1], keypoint.shape[2], num_persons), np.float32)
    sample[..., : persons.shape[0]] = persons.transpose(3, 1, 2, 0)  # (M, T, V, C) -> (C, T, V, M)
    return str(annotation["frame_dir"]), (int(label), sample)


def _choose_splits(split_lists: dict[str, list[str]], prefix: str | None, path: Path) -> dict[str, list[str]]:
    prefixes = sorted({key.rsplit("_", 1)[0] for key in split_lists if key.endswith("_train")})
    if prefix is None:
        if len(prefixes) != 1:
            raise DataFormatError(
                path,
                f"several benchmarks in the file ({prefixes}); choose one with split_prefix",
                key="split",
            )
        prefix = prefixes[0]
    if f"{prefix}_train" not in split_lists:
        raise DataFormatError(path, f"no {prefix}_train split; available: {prefixes}", key="split")
    chosen = {"train": [str(name) for name in split_lists[f"{prefix}_train"]]}
    for suffix in TEST_SUFFIXES:
        if f"{prefix}{suffix}" in split_lists:
            chosen["test"] = [str(name) for name in split_lists[f"{prefix}{suffix}"]]
            break
    return chosen


def write_pyskl(path: str | Path, splits: Mapping[str, SkeletonSamples]) -> Path:
    """Write a pyskl annotation pickle; the splits are called ``custom_train`` / ``custom_val`` (test)."""
    annotations, split_lists = [], {}
    for split, samples in splits.items():
        split_lists[f"custom_{'val' if split == 'test' else split}"] = list(samples.names)
        for row, name in enumerate(samples.names):
            length = int(samples.lengths[row])
            keypoint = np.asarray(samples.data[row, :, :length], np.float32)  # (C, T, V, M)
            annotations.append(
                {
                    "frame_dir": name,
                    "label": int(samples.labels[row]),
                    "total_frames": length,
                    "keypoint": np.ascontiguousarray(keypoint.transpose(3, 1, 2, 0)),  # (M, T, V, C)
                }
            )
    return save_pickle_atomic(path, {"split": split_lists, "annotations": annotations})
