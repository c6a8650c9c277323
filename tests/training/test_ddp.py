"""Two CPU processes under torchrun (gloo): both ranks end with identical weights, rank 0 writes
the run folder, and distributed evaluation counts every test sample exactly once."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch
from kill_helpers import run_all_or_kill

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.training.evaluate import run_evaluate

SCRIPT = """
import json, os, sys
from pathlib import Path
import torch
from skeletonmae.training.evaluate import run_evaluate
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_finetune, run_pretrain

torch.set_num_threads(1)
out, overrides = Path(sys.argv[1]), sys.argv[2:]
rank = int(os.environ["RANK"])
config, pinned = load_run_config(None, overrides + [f"output_dir={out / 'pre'}"])
pre = run_pretrain(config, pinned_model_fields=pinned)
torch.save(pre.model.state_dict(), out / f"pretrain_rank{rank}.pt")
config, pinned = load_run_config(None, overrides + [
    f"output_dir={out / 'ft'}", f"finetune.pretrained={out / 'pre' / 'best.pt'}"])
fine = run_finetune(config, pinned_model_fields=pinned)
torch.save(fine.model.state_dict(), out / f"finetune_rank{rank}.pt")
result = run_evaluate(out / "ft" / "best.pt", output_dir=out / "eval")
(out / f"rank{rank}.json").write_text(json.dumps({
    "history": fine.history, "eval_top1": result.metrics.top1, "eval_count": result.metrics.count}))
"""


@pytest.mark.slow
def test_two_gloo_processes_agree(tiny_dataset: Path, tmp_path: Path, tiny_overrides):
    script = tmp_path / "ddp_run.py"
    script.write_text(SCRIPT, encoding="utf-8")
    overrides = [
        o for o in tiny_overrides(tiny_dataset, tmp_path / "unused") if not o.startswith("output_dir=")
    ]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        str(tmp_path),
        *overrides,
    ]
    [(returncode, output)] = run_all_or_kill([command], 240, {**os.environ, "OMP_NUM_THREADS": "1"})
    assert returncode == 0, output[-3000:]

    for stage in ("pretrain", "finetune"):
        rank0 = torch.load(tmp_path / f"{stage}_rank0.pt", weights_only=True)
        rank1 = torch.load(tmp_path / f"{stage}_rank1.pt", weights_only=True)
        for key, value in rank0.items():
            assert torch.equal(value, rank1[key]), f"{stage}: {key} differs between ranks"
    last = load_checkpoint(tmp_path / "pre" / "last.pt")
    assert last["global_step"] == 2 * 6  # global batch 4 = 2 ranks x 2: still 6 steps per epoch
    rank0 = torch.load(tmp_path / "pretrain_rank0.pt", weights_only=True)
    assert all(torch.equal(value, rank0[key]) for key, value in last["model"].items())
    assert json.loads((tmp_path / "pre" / "env.json").read_text())["world_size"] == 2

    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert len(reports[0]["history"]) == 2
    assert reports[0]["history"] == reports[1]["history"]  # metrics reduced over ranks
    assert reports[0]["eval_count"] == reports[1]["eval_count"] == 12  # each sample once
    single = run_evaluate(tmp_path / "ft" / "best.pt", output_dir=tmp_path / "eval_single")
    assert single.metrics.count == 12
    assert reports[0]["eval_top1"] == pytest.approx(single.metrics.top1)
