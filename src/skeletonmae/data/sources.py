"""Several prepared splits read as one (``data.root`` a list), without copying: each part stays
memory-mapped, part 0's rows first. Parts share the layout and the channel set; labelled parts share
the class names, unlabelled ones (``num_classes`` 0) may join any; the dataset pads fewer persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skeletonmae.data.store import SplitArrays


@dataclass(frozen=True)
class StackedSplit:
    """The same split of several datasets, part after part. ``labels`` / ``lengths`` ``(N,)``
    int64 over the stack; ``offsets`` ``(P + 1,)`` the first row of each part and the total."""

    parts: tuple[SplitArrays, ...]
    labels: np.ndarray
    lengths: np.ndarray
    names: tuple[str, ...]
    offsets: np.ndarray
    meta: dict[str, Any]

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def folder(self) -> Path:
        """The first part's folder (what messages and single-folder callers name)."""
        return self.parts[0].folder

    @property
    def num_classes(self) -> int:
        return int(self.meta["num_classes"])

    @property
    def layout(self) -> str:
        return self.parts[0].layout

    @property
    def channels(self) -> str:
        return self.parts[0].channels

    @property
    def num_persons(self) -> int:
        return max(int(part.data.shape[4]) for part in self.parts)

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """``(C, V, M)`` of a sample (frames differ between parts)."""
        _, channels, _, joints, _ = self.parts[0].data.shape
        return int(channels), int(joints), self.num_persons


def stack_splits(parts: Sequence[SplitArrays]) -> StackedSplit:
    """Check that ``parts`` can be read as one split and stack them (a single part is wrapped)."""
    if not parts:
        raise ValueError("no split to stack: data.root names no dataset")
    first = parts[0]
    for part in parts[1:]:
        _check_compatible(first, part)
    labelled = [part for part in parts if part.num_classes > 0]
    for part in labelled[1:]:
        if list(part.meta["class_names"]) != list(labelled[0].meta["class_names"]):
            raise ValueError(
                f"{labelled[0].folder} and {part.folder} name different classes "
                f"({len(labelled[0].meta['class_names'])} vs {len(part.meta['class_names'])}); "
                "stack labelled datasets only when they share their classes, or prepare one "
                "of them without labels"
            )
    meta = dict(first.meta)
    meta["num_classes"] = labelled[0].num_classes if labelled else 0
    meta["class_names"] = list(labelled[0].meta["class_names"]) if labelled else []
    if len(parts) > 1:
        meta["sources"] = [str(part.folder) for part in parts]
    sizes = np.array([len(part) for part in parts], dtype=np.int64)
    labels = np.concatenate([part.labels for part in parts]).astype(np.int64)
    lengths = np.concatenate([part.lengths for part in parts]).astype(np.int64)
    names = tuple(name for part in parts for name in part.names)
    return StackedSplit(tuple(parts), labels, lengths, names, np.concatenate([[0], np.cumsum(sizes)]), meta)


def _check_compatible(first: SplitArrays, part: SplitArrays) -> None:
    """Same layout, channels and joints; the message names both folders and the fix."""
    for what, mine, theirs in (
        ("layout", first.layout, part.layout),
        ("channels", first.channels, part.channels),
        ("joints", first.data.shape[3], part.data.shape[3]),
    ):
        if mine != theirs:
            raise ValueError(
                f"{first.folder} ({what} {mine}) and {part.folder} ({what} {theirs}) cannot be read "
                f"as one dataset: every folder of data.root needs the same layout and channels; "
                "convert one of them (`skeletonmae prepare convert --layout ...`) or drop it from the list"
            )


def source_shares(weights: Sequence[float] | None, sizes: Sequence[int]) -> np.ndarray:
    """``(P,)`` share of each source in an epoch: the weights normalised, else the sizes."""
    values = np.asarray(sizes if weights is None else weights, dtype=np.float64)
    return values / values.sum()


def weighted_epoch(
    offsets: np.ndarray, shares: np.ndarray, seed: int, epoch: int, total: int | None = None
) -> np.ndarray:
    """One epoch of ``total`` (default: all rows) stack positions with source ``p`` drawing
    ``round(shares[p] * total)`` of them, shuffled; deterministic in ``(seed, epoch)``.

    A source drawn more often than it has rows passes through fresh permutations of itself; its
    ``k``-th pass adds ``k * N`` to the row (``N`` = stack rows), so position ``% N`` is the row and
    each pass gets its own augmentation (:meth:`SkeletonDataset.get_batch`)."""
    rows_total = int(offsets[-1])
    total = rows_total if total is None else int(total)
    counts = np.floor(shares * total).astype(np.int64)
    counts[np.argsort(-(shares * total - counts), kind="stable")[: total - counts.sum()]] += 1
    rng = np.random.default_rng([seed, epoch])
    picked = []
    for part, count in enumerate(counts):
        size = int(offsets[part + 1] - offsets[part])
        if count == 0 or size == 0:
            continue
        passes = -(-count // size)
        order = np.concatenate([rng.permutation(size) + k * rows_total for k in range(passes)])
        picked.append(order[:count] + offsets[part])
    epoch_rows = np.concatenate(picked) if picked else np.zeros(0, np.int64)
    return epoch_rows[rng.permutation(len(epoch_rows))]
