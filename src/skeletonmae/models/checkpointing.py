"""Activation checkpointing of a stack of blocks (``training.checkpoint_activations``).

A checkpointed block keeps only its input and recomputes its activations in the backward pass:
memory for compute, gradients unchanged. :class:`_FrozenRunningStats` keeps the recomputation's
second training-mode BatchNorm pass from updating the running statistics, so the model's state
also matches an ordinary step exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

__all__ = ["run_blocks", "set_activation_checkpointing"]


def run_blocks(
    blocks: Iterable[nn.Module], tokens: torch.Tensor, checkpointed: bool, **kwargs: Any
) -> torch.Tensor:
    """``tokens`` through every block in turn (``block(tokens, **kwargs)``), checkpointed when
    ``checkpointed`` and gradients are being recorded."""
    for block in blocks:
        if checkpointed and torch.is_grad_enabled() and block.training:
            contexts = lambda block=block: (contextlib.nullcontext(), _FrozenRunningStats(block))  # noqa: E731
            tokens = checkpoint(block, tokens, use_reentrant=False, context_fn=contexts, **kwargs)
        else:
            tokens = block(tokens, **kwargs)
    return tokens


class _FrozenRunningStats(contextlib.AbstractContextManager):
    """Inside: BatchNorm layers of ``module`` normalise with batch statistics as usual but leave
    their running mean / variance and batch counter as they were."""

    def __init__(self, module: nn.Module) -> None:
        self.norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.saved: list[tuple[float | None, torch.Tensor | None]] = []

    def __enter__(self) -> _FrozenRunningStats:
        for norm in self.norms:
            counter = None if norm.num_batches_tracked is None else norm.num_batches_tracked.clone()
            self.saved.append((norm.momentum, counter))
            norm.momentum = 0.0  # running = (1 - 0) * running + 0 * batch
        return self

    def __exit__(self, *exc: object) -> None:
        for norm, (momentum, counter) in zip(self.norms, self.saved):
            norm.momentum = momentum
            if counter is not None:
                norm.num_batches_tracked.copy_(counter)
        self.saved.clear()


def set_activation_checkpointing(model: nn.Module, enabled: bool) -> None:
    """Turn checkpointing of the encoder and decoder blocks of ``model`` on or off."""
    for module in model.modules():
        if hasattr(module, "checkpoint_activations"):
            module.checkpoint_activations = enabled
