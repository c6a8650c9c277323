"""MoCo machinery shared by CrosSCLR and AimCLR: projection head, key queue, momentum update, InfoNCE.

Conventions: embeddings are L2-normalised ``(B, D)`` rows; the queue holds ``(K, D)`` keys; logits
are ``(B, 1 + K)`` with the positive key in column 0 and the queue's keys after it, divided by the
temperature.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


class ProjectionHead(nn.Module):
    """Encoder features ``(B, D_in)`` -> embedding ``(B, D_out)``: Linear-ReLU-Linear (MLP) or one Linear."""

    def __init__(self, in_features: int, out_features: int = 128, mlp: bool = True) -> None:
        super().__init__()
        hidden = [nn.Linear(in_features, in_features), nn.ReLU(inplace=True)] if mlp else []
        self.layers = nn.Sequential(*hidden, nn.Linear(in_features, out_features))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


@torch.no_grad()
def copy_parameters_(key_module: nn.Module, query_module: nn.Module) -> None:
    """Make the key module an exact copy of the query module and freeze its parameters."""
    key_module.load_state_dict(query_module.state_dict())
    for parameter in key_module.parameters():
        parameter.requires_grad_(False)


@torch.no_grad()
def momentum_update_(key_module: nn.Module, query_module: nn.Module, momentum: float) -> None:
    """``key = momentum * key + (1 - momentum) * query`` for every parameter (buffers are left alone).

    Raises if the two modules do not have the same parameter names and shapes.
    """
    key_parameters = dict(key_module.named_parameters())
    query_parameters = dict(query_module.named_parameters())
    if key_parameters.keys() != query_parameters.keys():
        raise ValueError(
            "momentum_update_: key and query modules have different parameters: "
            f"{sorted(set(key_parameters) ^ set(query_parameters))[:5]}"
        )
    for name, key in key_parameters.items():
        key.mul_(momentum).add_(query_parameters[name].detach(), alpha=1.0 - momentum)


def gather_from_all_processes(keys: torch.Tensor) -> torch.Tensor:
    """Concatenate ``(B, D)`` keys from every DDP process (rank order); the input itself when not
    distributed."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return keys
    gathered = [torch.empty_like(keys) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, keys.contiguous())
    return torch.cat(gathered, dim=0)


class KeyQueue(nn.Module):
    """A FIFO of ``size`` L2-normalised keys ``(size, dim)``, random unit vectors at first (MoCo);
    ``enqueue`` overwrites the oldest ones. Keys and pointer are buffers (checkpointed, moved by ``.to``)."""

    keys: torch.Tensor
    pointer: torch.Tensor

    def __init__(self, size: int, dim: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        initial = torch.randn(size, dim, generator=generator)
        self.register_buffer("keys", F.normalize(initial, dim=1))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.keys.shape[0]

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Write ``keys (B, dim)`` (gathered from every DDP process) over the oldest entries."""
        keys = gather_from_all_processes(keys.detach())
        if keys.dim() != 2 or keys.shape[1] != self.keys.shape[1]:
            raise ValueError(
                f"KeyQueue.enqueue: expected keys (B, {self.keys.shape[1]}), got {tuple(keys.shape)}"
            )
        if keys.shape[0] > self.size:
            keys = keys[-self.size :]
        count, start = keys.shape[0], int(self.pointer)
        slots = (start + torch.arange(count, device=self.keys.device)) % self.size
        self.keys[slots] = keys.to(self.keys.dtype)
        self.pointer.fill_((start + count) % self.size)


def contrastive_logits(
    query: torch.Tensor, positive_key: torch.Tensor, queue_keys: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Similarities of normalised queries ``(B, D)`` to their key ``(B, D)`` and the queue ``(K, D)``.

    Returns ``(logits (B, 1+K), negative_similarities (B, K))``: the logits are divided by the
    temperature, the raw negative similarities (not divided) are what nearest-neighbour mining ranks.
    """
    positive = (query * positive_key).sum(dim=1, keepdim=True)  # (B, 1)
    negative = query @ queue_keys.detach().t()  # (B, K)
    return torch.cat([positive, negative], dim=1) / temperature, negative


def info_nce_loss(logits: torch.Tensor) -> torch.Tensor:
    """InfoNCE: cross-entropy with the positive in column 0 of ``logits (B, 1+K)``."""
    return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device))


def multi_positive_nce_loss(logits: torch.Tensor, positive_mask: torch.Tensor) -> torch.Tensor:
    """Mean over queries of ``-mean_{p in positives} log softmax(logits)_p``; ``positive_mask`` is
    0/1 like logits."""
    mask = positive_mask.to(logits.dtype)
    per_query = -(F.log_softmax(logits, dim=1) * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    return per_query.mean()


def distribution_divergence_loss(logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """AimCLR's D3M term: cross-entropy ``-sum softmax(target) * log softmax(logits)``, target
    without gradient."""
    target = F.softmax(target_logits.detach(), dim=1)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
