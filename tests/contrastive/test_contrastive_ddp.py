"""Two gloo processes: keys from every rank reach every rank's queue, and DDP keeps the models equal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2
TIMEOUT_S = 180


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE)
    try:
        from skeletonmae.contrastive import ContrastiveConfig
        from skeletonmae.contrastive.build import build_contrastive_model
        from skeletonmae.contrastive.moco import KeyQueue
        from skeletonmae.data.layouts import get_layout
        from skeletonmae.models import preset

        queue = KeyQueue(size=8, dim=2, generator=torch.Generator().manual_seed(0))
        queue.enqueue(torch.full((2, 2), float(rank + 1)))  # rank r contributes two keys of value r+1

        torch.manual_seed(0)  # same initial weights on both ranks, as the stage does
        config = ContrastiveConfig(method="crossclr", queue_size=16)
        model = build_contrastive_model(preset("cpu-small", num_frames=12), config, get_layout("nw_ucla20"))
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        optimizer = torch.optim.SGD([p for p in ddp.parameters() if p.requires_grad], lr=0.1)
        x = torch.randn(4, 3, 12, 20, 1, generator=torch.Generator().manual_seed(10 + rank))  # different data
        ddp(x, torch.Generator().manual_seed(rank)).loss.backward()
        optimizer.step()
        state = {name: p.detach() for name, p in model.named_parameters()}  # BN statistics stay per rank
        state.update({name: b for name, b in model.named_buffers() if name.startswith("queues.")})
        torch.save(
            {"queue": queue.keys, "pointer": int(queue.pointer), "model": state},
            Path(out_dir) / f"rank{rank}.pt",
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_queues_gather_keys_and_ddp_keeps_ranks_identical(tmp_path: Path) -> None:
    workers = mp.spawn(_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD_SIZE, join=False)
    deadline = time.monotonic() + TIMEOUT_S
    while not workers.join(timeout=1.0):  # raises if a worker failed
        if time.monotonic() > deadline:
            for process in workers.processes:
                process.kill()
            pytest.fail(f"the {WORLD_SIZE} gloo workers did not finish in {TIMEOUT_S} s and were killed")
    results = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]
    for result in results:
        assert result["pointer"] == 4
        assert torch.equal(result["queue"][:4], torch.tensor([[1.0, 1.0]] * 2 + [[2.0, 2.0]] * 2))
    assert any(key.startswith("key.") for key in results[0]["model"])
    for key, value in results[0]["model"].items():  # query, key (momentum) branches and queues
        assert torch.equal(value, results[1]["model"][key]), f"ranks disagree on {key}"
    queue_keys = results[0]["model"]["queues.joint.keys"]
    assert int(results[0]["model"]["queues.joint.pointer"]) == 8, "both ranks' 4 keys were enqueued"
    assert torch.allclose(queue_keys[:8].norm(dim=1), torch.ones(8), atol=1e-5)
