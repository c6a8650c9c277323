"""Samplers and single-process behaviour of the DDP helpers."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.distributed import (
    DistributedContext,
    ResumableDistributedSampler,
    ShardSampler,
    all_reduce_sum,
    distributed_session,
    wrap_model,
)


def test_resumable_sampler_skips_the_start_of_the_same_order():
    dataset = list(range(23))
    context = DistributedContext()
    sampler = ResumableDistributedSampler(dataset, context, shuffle=True, seed=5, drop_last=False)
    sampler.set_epoch(3)
    full = list(sampler)
    assert sorted(full) == dataset
    sampler.set_start(10)
    assert list(sampler) == full[10:] and len(sampler) == 13
    sampler.set_epoch(4)
    sampler.set_start(0)
    assert list(sampler) != full  # a new epoch reshuffles
    with pytest.raises(ValueError, match="cannot skip 24 of 23"):
        sampler.set_start(24)


def test_resumable_sampler_shards_disjointly_over_ranks():
    dataset = list(range(20))
    shards = []
    for rank in range(2):
        context = DistributedContext(rank=rank, world_size=2)
        sampler = ResumableDistributedSampler(dataset, context, shuffle=True, seed=0, drop_last=True)
        sampler.set_epoch(1)
        shards.append(list(sampler))
    assert len(shards[0]) == len(shards[1]) == 10
    assert sorted(shards[0] + shards[1]) == dataset


def test_shard_sampler_covers_every_index_once():
    parts = [list(ShardSampler(7, DistributedContext(rank=r, world_size=3))) for r in range(3)]
    assert parts == [[0, 3, 6], [1, 4], [2, 5]]


def test_single_process_session_is_plain(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with distributed_session("cpu") as context:
        assert context.is_main and not context.is_distributed
        assert context.device == torch.device("cpu")
        tensor = torch.ones(2)
        assert torch.equal(all_reduce_sum(tensor, context), torch.ones(2))
        model = wrap_model(torch.nn.BatchNorm1d(2), context, sync_batchnorm=True)
        assert isinstance(model, torch.nn.BatchNorm1d)  # no DDP, no SyncBN in one process


def test_bad_environment_is_reported(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE='two' is not an integer"):
        with distributed_session("cpu"):
            pass


def test_sync_batchnorm_on_cpu_ranks_is_refused():
    context = DistributedContext(rank=0, world_size=2)
    with pytest.raises(ValueError, match="sync_batchnorm=true needs CUDA devices"):
        wrap_model(torch.nn.BatchNorm1d(2), context, sync_batchnorm=True)
