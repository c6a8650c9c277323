"""Two gloo processes killed hard mid-epoch, then resumed with torchrun, end with exactly the weights
of an uninterrupted two-process run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch
from kill_helpers import KILL_AFTER_STEP_ENV, KILL_PRELUDE, run_all_or_kill

from skeletonmae.checkpoints import load_checkpoint

RUNNER = (
    KILL_PRELUDE
    + """
import os, sys
from pathlib import Path
import torch
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_pretrain
torch.set_num_threads(1)
out, resume, overrides = Path(sys.argv[1]), sys.argv[2] == "resume", sys.argv[3:]
config, pinned = load_run_config(None, overrides + [f"output_dir={out}"])
result = run_pretrain(config, resume=resume, pinned_model_fields=pinned)
torch.save(result.model.state_dict(), out / f"final_rank{os.environ['RANK']}.pt")
"""
)


def _torchrun(script: Path, out: Path, resume: bool, overrides: list[str], kill_at: int | None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", KILL_AFTER_STEP_ENV: str(kill_at or 10**9)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(script), str(out), "resume" if resume else "fresh", *overrides]
    [(returncode, output)] = run_all_or_kill([command], 240, env)
    return returncode, output


@pytest.mark.slow
def test_a_killed_two_process_run_resumes_to_the_uninterrupted_weights(
    tiny_dataset, tmp_path, tiny_overrides
):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER, encoding="utf-8")
    overrides = [
        o for o in tiny_overrides(tiny_dataset, tmp_path / "unused") if not o.startswith("output_dir=")
    ]
    overrides.append("training.checkpoint_every_steps=2")
    code, output = _torchrun(script, tmp_path / "reference", False, overrides, None)
    assert code == 0, output[-3000:]
    # 6 optimiser steps an epoch (global batch 4 over 2 ranks); die one step after epoch 2's first checkpoint
    code, output = _torchrun(script, tmp_path / "killed", False, overrides, kill_at=6 + 3)
    assert code != 0, "the kill did not stop the run"
    saved = load_checkpoint(tmp_path / "killed" / "last.pt")
    assert (saved["epoch"], saved["step_in_epoch"]) == (1, 2)
    code, output = _torchrun(script, tmp_path / "killed", True, overrides, None)
    assert code == 0, output[-3000:]
    for rank in (0, 1):
        expected = torch.load(tmp_path / "reference" / f"final_rank{rank}.pt", weights_only=True)
        resumed = torch.load(tmp_path / "killed" / f"final_rank{rank}.pt", weights_only=True)
        for key, value in expected.items():
            assert torch.equal(resumed[key], value), f"rank {rank}: {key}"
    assert load_checkpoint(tmp_path / "killed" / "last.pt")["global_step"] == 12
