"""Checks of a dataset that are not errors but usually mean a mistake, in words a user understands.

``inspect`` prints them and ``prepare convert`` lists them in the manifest (``--strict`` turns
them into an error). Each :class:`DataWarning` names the split, the sample where there is one,
what was seen and what to do:

- ``uncentred``: the layout's centre joint lies far from the origin compared with the body size
  (camera coordinates); every built-in dataset is centred on that joint;
- ``zero_frames``: all-zero frames inside a sample's stated length (a broken recording);
- ``constant_frames``: most frames inside the stated length repeat the previous one (frozen tracking);
- ``nonfinite``: NaN or inf values;
- ``empty`` / ``short``: samples with no valid frame, or fewer than ``min_frames``;
- ``padding``: the arrays keep many more frames than the longest valid sequence;
- ``rare_class``: classes with fewer than ``min_class_samples`` samples in a split;
- ``split_classes``: a class of a test split that the training split never shows (or the reverse).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np

from skeletonmae.data.channels import spatial_dims
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.transforms import body_size

__all__ = ["CheckConfig", "DataWarning", "check_splits"]

CHUNK = 256  # samples scanned at once (the data may be a memory map larger than memory)


@dataclasses.dataclass(frozen=True)
class CheckConfig:
    """Thresholds of the checks."""

    min_frames: int = 2
    min_class_samples: int = 5
    uncentred_body_sizes: float = 2.0  # centre joint this many body sizes from the origin
    constant_fraction: float = 0.5
    padding_factor: float = 2.0  # padded length over the longest valid sequence
    examples: int = 5  # samples named per warning


@dataclasses.dataclass(frozen=True)
class DataWarning:
    """One finding: ``code`` (see the module doc), ``split``, the samples it concerns (names, at
    most ``CheckConfig.examples``, and how many in all) and a sentence with the fix."""

    code: str
    split: str
    message: str
    samples: tuple[str, ...] = ()
    count: int = 0

    def __str__(self) -> str:
        where = f"{self.split}: " if self.split else ""
        shown = f" (e.g. {', '.join(self.samples)})" if self.samples else ""
        return f"{where}{self.message}{shown}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_splits(
    splits: Mapping[str, SkeletonSamples], config: CheckConfig = CheckConfig()
) -> list[DataWarning]:
    """Every warning of every split, then the cross-split class check."""
    found: list[DataWarning] = []
    for name, samples in splits.items():
        found.extend(_check_samples(name, samples, config))
    found.extend(_check_split_classes(splits))
    return found


@dataclasses.dataclass(frozen=True)
class _Scan:
    """Per-sample ``(N,)`` facts gathered in one chunked pass over the data."""

    zero: np.ndarray  # all-zero frames inside the stated length
    constant: np.ndarray  # fraction of frames that repeat the previous one
    nonfinite: np.ndarray  # bool
    centre_offset: np.ndarray  # distance of the centre joint (first person) from the origin
    body_size: np.ndarray  # transforms.body_size; 0 where no frame holds a skeleton


def _check_samples(split: str, samples: SkeletonSamples, config: CheckConfig) -> Iterator[DataWarning]:
    if samples.num_samples == 0:
        return
    scan = _scan(samples)
    lengths, zero, constant = samples.lengths, scan.zero, scan.constant
    worst = int(zero.argmax())
    per_sample = (
        (scan.nonfinite, "nonfinite", "hold NaN or inf values; fix or drop those frames"),
        (lengths == 0, "empty", "have no valid frame (stated length 0); drop them"),
        (
            (lengths > 0) & (lengths < config.min_frames),
            "short",
            f"have fewer than {config.min_frames} valid frames",
        ),
        (
            zero > 0,
            "zero_frames",
            "hold all-zero frames inside their stated length (a broken recording?); the worst has "
            f"{zero[worst]} of {lengths[worst]} frames empty: drop them, or state the real lengths",
        ),
        (
            constant > config.constant_fraction,
            "constant_frames",
            f"repeat the previous frame in more than {config.constant_fraction:.0%} of their frames "
            "(frozen tracking?)",
        ),
    )
    for flagged, code, message in per_sample:
        yield from _per_sample(split, samples.names, flagged, code, message, config)
    yield from _centring(split, samples, scan, config)
    yield from _padding(split, samples, config)
    yield from _rare_classes(split, samples, config)


def _per_sample(
    split: str, names: tuple[str, ...], flagged: np.ndarray, code: str, message: str, config: CheckConfig
) -> Iterator[DataWarning]:
    count = int(flagged.sum())
    if count:
        shown = tuple(names[i] for i in np.flatnonzero(flagged)[: config.examples])
        yield DataWarning(code, split, f"{count} sample(s) {message}", shown, count)


def _scan(samples: SkeletonSamples) -> _Scan:
    """One chunked, vectorised pass over every sample's valid frames (spatial channels for the
    geometry, first person for the centre joint)."""
    dims = spatial_dims(samples.channels)
    centre = get_layout(samples.layout).center_joint
    parts = [
        _scan_block(
            np.asarray(samples.data[i : i + CHUNK], np.float32), samples.lengths[i : i + CHUNK], dims, centre
        )
        for i in range(0, samples.num_samples, CHUNK)
    ]
    return _Scan(*(np.concatenate(column) for column in zip(*parts)))


def _scan_block(block: np.ndarray, lengths: np.ndarray, dims: int, centre: int) -> tuple[np.ndarray, ...]:
    """The :class:`_Scan` columns of ``block`` ``(n, C, T, V, M)`` with stated ``lengths`` ``(n,)``."""
    nonfinite = ~np.isfinite(block).all(axis=(1, 2, 3, 4))
    valid = np.arange(block.shape[2])[None, :] < lengths[:, None]  # (n, T): inside the length
    block = np.nan_to_num(block) * valid[:, None, :, None, None]
    held = block.any(axis=(1, 3, 4))  # (n, T): frames holding any value
    zero = (valid & ~held).sum(axis=1)
    repeats = (block[:, :, 1:] == block[:, :, :-1]).all(axis=(1, 3, 4)) & held[:, 1:]  # (n, T-1)
    constant = repeats.sum(axis=1) / np.maximum(lengths - 1, 1)
    joints = block[:, :dims, :, centre, 0]  # (n, D, T)
    frames = np.maximum(held.sum(axis=1), 1)
    offset = np.linalg.norm(joints.sum(axis=2) / frames[:, None], axis=1)  # empty frames are zeros
    size = np.where(held.any(axis=1), body_size(block[:, :dims]), 0.0)
    return zero, constant, nonfinite, offset, size


def _centring(
    split: str, samples: SkeletonSamples, scan: _Scan, config: CheckConfig
) -> Iterator[DataWarning]:
    offsets, sizes = scan.centre_offset, scan.body_size
    valid = sizes > 0
    if not valid.any():
        return
    offset, size = float(np.median(offsets[valid])), float(np.median(sizes[valid]))
    if offset > config.uncentred_body_sizes * size:
        joint = get_layout(samples.layout).joint_names[get_layout(samples.layout).center_joint]
        yield DataWarning(
            "uncentred",
            split,
            f"the skeletons are not centred: the centre joint ({joint}) lies a median {offset:.3g} from "
            f"the origin, {offset / size:.1f} body sizes (body size {size:.3g}); every built-in dataset "
            "is centred on it: prepare it with `skeletonmae prepare convert ... --center first`",
        )


def _padding(split: str, samples: SkeletonSamples, config: CheckConfig) -> Iterator[DataWarning]:
    padded, longest = samples.data.shape[2], int(samples.lengths.max())
    if longest > 0 and padded > config.padding_factor * longest:
        yield DataWarning(
            "padding",
            split,
            f"the arrays keep {padded} frames per sample but the longest valid sequence has {longest} "
            f"(median {int(np.median(samples.lengths))}): {1 - longest / padded:.0%} of the array is "
            f"padding; trim the data to {longest} frames",
        )


def _rare_classes(split: str, samples: SkeletonSamples, config: CheckConfig) -> Iterator[DataWarning]:
    labels = samples.labels[samples.labels >= 0]
    if labels.size == 0:
        return
    counts = np.bincount(labels, minlength=samples.num_classes)
    few = np.flatnonzero((counts > 0) & (counts < config.min_class_samples))  # absent: split_classes
    rare = [f"{samples.class_names[k]} ({counts[k]})" for k in few]
    if rare:
        yield DataWarning(
            "rare_class",
            split,
            f"{len(rare)} class(es) have fewer than {config.min_class_samples} samples: "
            f"{', '.join(rare[: config.examples])}; few-label subsets and k-NN need more",
        )


def _check_split_classes(splits: Mapping[str, SkeletonSamples]) -> Iterator[DataWarning]:
    train = next((s for name, s in splits.items() if name.startswith("train")), None)
    if train is None:
        return
    seen = set(np.unique(train.labels[train.labels >= 0]).tolist())
    for name, samples in splits.items():
        if samples is train:
            continue
        other = set(np.unique(samples.labels[samples.labels >= 0]).tolist())
        for missing, where, absent in ((other - seen, name, "train"), (seen - other, name, name)):
            if missing:
                shown = ", ".join(samples.class_names[k] for k in sorted(missing)[:5])
                yield DataWarning(
                    "split_classes",
                    where,
                    f"{len(missing)} class(es) never appear in the {absent} split: {shown}; "
                    "check the split assignment",
                )
