"""Warnings about data that usually mean a mistake, in words (``inspect`` prints them, ``prepare
convert`` lists them in the manifest, ``--strict`` refuses them). Each names the split, the samples,
what was seen and what to do: ``uncentred`` (the centre joint far from the origin for the body size:
camera coordinates), ``zero_frames`` / ``constant_frames`` (all-zero frames, or frames repeating the
previous one, inside the stated length), ``nonfinite``, ``empty`` / ``short`` (fewer than
``MIN_FRAMES``), ``padding`` (far beyond the longest sequence), ``rare_class`` (fewer than
``MIN_CLASS_SAMPLES`` in a split), ``split_classes`` (a class one split has and the training split lacks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np

from skeletonmae.data.channels import spatial_dims
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.transforms import body_size

CHUNK = 256  # samples scanned at once (the data may be a memory map larger than memory)
MIN_FRAMES = 2
MIN_CLASS_SAMPLES = 5
UNCENTRED_BODY_SIZES = 2.0  # centre joint this many body sizes from the origin
CONSTANT_FRACTION = 0.5
PADDING_FACTOR = 2.0  # padded length over the longest valid sequence
EXAMPLES = 5  # samples named per warning


@dataclasses.dataclass(frozen=True)
class DataWarning:
    """One finding: ``code`` (see the module doc), ``split``, the samples it concerns (names, at
    most ``EXAMPLES``, and how many in all) and a sentence with the fix."""

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


def check_splits(splits: Mapping[str, SkeletonSamples]) -> list[DataWarning]:
    """Every warning of every split, then the cross-split class check."""
    found = [warning for name, samples in splits.items() for warning in _check_samples(name, samples)]
    return found + list(_check_split_classes(splits))


@dataclasses.dataclass(frozen=True)
class _Scan:
    """Per-sample ``(N,)`` facts gathered in one chunked pass over the data."""

    zero: np.ndarray  # all-zero frames inside the stated length
    constant: np.ndarray  # fraction of frames that repeat the previous one
    nonfinite: np.ndarray  # bool
    centre_offset: np.ndarray  # distance of the centre joint (first person) from the origin
    body_size: np.ndarray  # transforms.body_size; 0 where no frame holds a skeleton


def _check_samples(split: str, samples: SkeletonSamples) -> Iterator[DataWarning]:
    if samples.num_samples == 0:
        return
    scan = _scan(samples)
    lengths, zero, constant = samples.lengths, scan.zero, scan.constant
    worst = int(zero.argmax())
    per_sample = (
        (scan.nonfinite, "nonfinite", "hold NaN or inf values; fix or drop those frames"),
        (lengths == 0, "empty", "have no valid frame (stated length 0); drop them"),
        ((lengths > 0) & (lengths < MIN_FRAMES), "short", f"have fewer than {MIN_FRAMES} valid frames"),
        (
            zero > 0,
            "zero_frames",
            "hold all-zero frames inside their stated length (a broken recording?); the worst has "
            f"{zero[worst]} of {lengths[worst]} frames empty: drop them, or state the real lengths",
        ),
        (
            constant > CONSTANT_FRACTION,
            "constant_frames",
            f"repeat the previous frame in more than {CONSTANT_FRACTION:.0%} of their frames "
            "(frozen tracking?)",
        ),
    )
    for flagged, code, message in per_sample:
        count = int(flagged.sum())
        if count:
            shown = tuple(samples.names[i] for i in np.flatnonzero(flagged)[:EXAMPLES])
            yield DataWarning(code, split, f"{count} sample(s) {message}", shown, count)
    yield from _centring(split, samples, scan)
    yield from _padding(split, samples)
    yield from _rare_classes(split, samples)


def _scan(samples: SkeletonSamples) -> _Scan:
    """One chunked pass over the valid frames (positions for geometry, first person for the centre)."""
    dims = spatial_dims(samples.channels)
    centre = get_layout(samples.layout).center_joint
    chunks = [slice(start, start + CHUNK) for start in range(0, samples.num_samples, CHUNK)]
    parts = [_scan_block(samples.data[rows], samples.lengths[rows], dims, centre) for rows in chunks]
    return _Scan(*(np.concatenate(column) for column in zip(*parts)))


def _scan_block(block: np.ndarray, lengths: np.ndarray, dims: int, centre: int) -> tuple[np.ndarray, ...]:
    """The :class:`_Scan` columns of ``block`` ``(n, C, T, V, M)`` with stated ``lengths`` ``(n,)``."""
    block = np.asarray(block, np.float32)  # a chunk of a memmap is read here
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


def _centring(split: str, samples: SkeletonSamples, scan: _Scan) -> Iterator[DataWarning]:
    offsets, sizes = scan.centre_offset, scan.body_size
    valid = sizes > 0
    if not valid.any():
        return
    offset, size = float(np.median(offsets[valid])), float(np.median(sizes[valid]))
    if offset > UNCENTRED_BODY_SIZES * size:
        layout = get_layout(samples.layout)
        joint = layout.joint_names[layout.center_joint]
        message = (
            f"the skeletons are not centred: the centre joint ({joint}) lies a median {offset:.3g} from "
            f"the origin, {offset / size:.1f} body sizes (body size {size:.3g}); every built-in dataset "
            "is centred on it: prepare it with `skeletonmae prepare convert ... --center first`"
        )
        yield DataWarning("uncentred", split, message)


def _padding(split: str, samples: SkeletonSamples) -> Iterator[DataWarning]:
    padded, longest = samples.data.shape[2], int(samples.lengths.max())
    if longest > 0 and padded > PADDING_FACTOR * longest:
        message = (
            f"the arrays keep {padded} frames per sample but the longest valid sequence has {longest} "
            f"(median {int(np.median(samples.lengths))}): {1 - longest / padded:.0%} of the array is "
            f"padding; trim the data to {longest} frames"
        )
        yield DataWarning("padding", split, message)


def _rare_classes(split: str, samples: SkeletonSamples) -> Iterator[DataWarning]:
    counts = np.bincount(samples.labels[samples.labels >= 0], minlength=samples.num_classes)
    few = np.flatnonzero((counts > 0) & (counts < MIN_CLASS_SAMPLES))  # absent: split_classes
    rare = [f"{samples.class_names[k]} ({counts[k]})" for k in few]
    if rare:
        shown = ", ".join(rare[:EXAMPLES])
        message = f"{len(rare)} class(es) have fewer than {MIN_CLASS_SAMPLES} samples: {shown}"
        yield DataWarning("rare_class", split, f"{message}; few-label subsets and k-NN need more")


def _check_split_classes(splits: Mapping[str, SkeletonSamples]) -> Iterator[DataWarning]:
    train = next((s for name, s in splits.items() if name.startswith("train")), None)
    if train is None:
        return
    seen = set(np.unique(train.labels[train.labels >= 0]).tolist())
    for name, samples in splits.items():
        if samples is train:
            continue
        other = set(np.unique(samples.labels[samples.labels >= 0]).tolist())
        for missing, absent in ((other - seen, "train"), (seen - other, name)):
            if missing:
                shown = ", ".join(samples.class_names[k] for k in sorted(missing)[:5])
                message = f"{len(missing)} class(es) never appear in the {absent} split: {shown}"
                yield DataWarning("split_classes", name, f"{message}; check the split assignment")
