"""Counter-based random numbers: each draw is a SplitMix64 hash of ``(seed, epoch, sample, draw)``
(numpy ``uint64`` wraps around, as the hash needs), so augmentation ignores workers, batches, resumption.
"""

from __future__ import annotations

import functools

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser applied elementwise to a ``uint64`` array."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@functools.lru_cache(maxsize=64)
def _epoch_key(seed: int, epoch: int) -> np.ndarray:
    """``(1,)`` uint64 key of ``(seed, epoch)`` (cached; treat as read-only)."""
    key = _splitmix64(_splitmix64(np.array([seed], dtype=np.uint64)) ^ np.array([epoch], dtype=np.uint64))
    key.setflags(write=False)
    return key


def uniform_streams(seed: int, epoch: int, indices: np.ndarray, count: int) -> np.ndarray:
    """``(B, count)`` float64 uniforms in ``[0, 1)``: row ``b`` depends only on ``(seed, epoch,
    indices[b])``, column ``k`` is its ``k``-th draw."""
    if seed < 0 or epoch < 0:
        raise ValueError(f"seed and epoch must be non-negative integers, got seed={seed}, epoch={epoch}")
    # uint64 *arrays* wrap around silently (only numpy scalars warn), so every operand is an array.
    per_sample = _splitmix64(
        _epoch_key(seed, epoch) ^ np.asarray(indices, dtype=np.uint64).reshape(-1)
    )  # (B,)
    draws = per_sample[:, None] + np.arange(1, count + 1, dtype=np.uint64)[None, :] * _GOLDEN  # (B, count)
    bits = _splitmix64(draws)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
