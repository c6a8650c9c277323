"""DDP plumbing on PyTorch's own engine: process group, samplers, wrapping, metric reduction.

Under ``torchrun`` the environment holds ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``; we then
initialise the default process group (NCCL on CUDA, gloo on CPU). Without them everything runs in
one process and the helpers below are no-ops, so the training loop has one code path.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import logging
import os
from collections.abc import Iterator, Sized

import torch
import torch.distributed as dist
from torch.utils.data import Sampler
from torch.utils.data.distributed import DistributedSampler

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DistributedContext:
    """Where this process sits: its rank, the world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, writes files and shows progress bars."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r} is not an integer") from None


def pick_device(preference: str, local_rank: int) -> torch.device:
    """``auto``: CUDA (this process's local GPU) when available, else CPU."""
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("training.device is 'cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


@contextlib.contextmanager
def distributed_session(device_preference: str = "auto") -> Iterator[DistributedContext]:
    """The context of this process; initialises the process group when launched by torchrun.

    The group stays up for the life of the process (destroyed at exit), so one process may run
    several stages in a row: re-creating a group in the same torchrun worker would hang in the
    rendezvous.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    device = pick_device(device_preference, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
        atexit.register(_destroy_process_group)
        logger.info("process group up: backend=%s rank=%d/%d", backend, rank, world_size)
    yield DistributedContext(rank, world_size, local_rank, device)


def _destroy_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (a no-op in one process); returns it."""
    if context.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_objects(obj: object, context: DistributedContext) -> list:
    """Every rank's ``obj`` (picklable), in rank order, on every rank; ``[obj]`` in one process."""
    if not context.is_distributed:
        return [obj]
    gathered: list = [None] * context.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast_buffers(module: torch.nn.Module, context: DistributedContext) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank. DDP syncs them at the
    start of each forward only, so after the last step of an epoch ranks hold their own; this
    makes validation and the final weights identical on every rank."""
    if context.is_distributed:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def barrier(context: DistributedContext) -> None:
    if context.is_distributed:
        dist.barrier()


def wrap_model(model: torch.nn.Module, context: DistributedContext, sync_batchnorm: bool) -> torch.nn.Module:
    """Move to the device; under DDP optionally convert BatchNorm to SyncBatchNorm and wrap.

    SyncBatchNorm is GPU-only in PyTorch, so asking for it in a multi-process CPU run is an error
    (in one process it would change nothing and is ignored).
    """
    if context.is_distributed and sync_batchnorm:
        if context.device.type != "cuda":
            raise ValueError(
                "training.sync_batchnorm=true needs CUDA devices (PyTorch's "
                "SyncBatchNorm is GPU-only); set training.sync_batchnorm=false "
                "for multi-process CPU runs"
            )
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(context.device)
    if not context.is_distributed:
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def no_gradient_sync(model: torch.nn.Module, skip: bool) -> contextlib.AbstractContextManager:
    """DDP's ``no_sync()`` for micro-batches that do not end an accumulation group."""
    if skip and isinstance(model, torch.nn.parallel.DistributedDataParallel):
        return model.no_sync()
    return contextlib.nullcontext()


class ResumableDistributedSampler(DistributedSampler):
    """``DistributedSampler`` (seeded shuffle by ``seed + epoch``, one shard per rank) that can
    start part-way into an epoch: :meth:`set_start` skips the first ``n`` samples of this rank's
    shard, so a run resumed mid-epoch sees exactly the remaining samples of the original order."""

    def __init__(
        self, dataset: Sized, context: DistributedContext, shuffle: bool, seed: int, drop_last: bool
    ) -> None:
        super().__init__(
            dataset,  # type: ignore[arg-type]
            num_replicas=context.world_size,
            rank=context.rank,
            shuffle=shuffle,
            seed=seed,
            drop_last=drop_last,
        )
        self.start = 0

    def set_start(self, samples_to_skip: int) -> None:
        if not 0 <= samples_to_skip <= self.num_samples:
            raise ValueError(f"cannot skip {samples_to_skip} of {self.num_samples} samples")
        self.start = samples_to_skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(super().__iter__(), self.start, None)

    def __len__(self) -> int:
        return self.num_samples - self.start


class ShardSampler(Sampler[int]):
    """Evaluation sampler: rank ``r`` takes indices ``r, r + W, r + 2W, ...`` in order (no padding,
    no duplicates), so summed metrics over ranks count every sample exactly once."""

    def __init__(self, length: int, context: DistributedContext) -> None:
        self.indices = list(range(context.rank, length, context.world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DDP (``.module``) and ``torch.compile`` (``._orig_mod``) wrappers."""
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod  # type: ignore[assignment]
        else:
            return model
