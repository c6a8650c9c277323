"""A run killed hard (SIGKILL) in the middle of an epoch, then resumed with --resume semantics,
ends with exactly the weights of an uninterrupted run with the same seed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch
from kill_helpers import KILL_AFTER_STEP_ENV, KILL_PRELUDE

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.run_config import load_run_config
from skeletonmae.training.stages import run_finetune, run_pretrain

RUNNER = (
    KILL_PRELUDE
    + """
import sys
import torch
from skeletonmae.run_config import load_run_config
from skeletonmae.training import stages
torch.set_num_threads(1)
config, pinned = load_run_config(None, sys.argv[2:])
getattr(stages, sys.argv[1])(config, pinned_model_fields=pinned)
"""
)


def _killed_run(function: str, overrides: list[str], kill_at: int) -> None:
    env = {**os.environ, KILL_AFTER_STEP_ENV: str(kill_at)}
    process = subprocess.run(
        [sys.executable, "-c", RUNNER, function, *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_killed_mid_epoch_then_resumed_equals_uninterrupted(stage, tiny_dataset, tmp_path, tiny_overrides):
    function = {"pretrain": run_pretrain, "finetune": run_finetune}[stage]
    extra = ["training.checkpoint_every_steps=2"]
    if stage == "finetune":
        extra += ["data.label_fraction=0.75", "model.head_dropout=0.5"]  # 18 samples, 4 steps
    reference_config, pinned = load_run_config(
        None, tiny_overrides(tiny_dataset, tmp_path / "reference", *extra)
    )
    reference = function(reference_config, pinned_model_fields=pinned)

    killed_overrides = tiny_overrides(tiny_dataset, tmp_path / "killed", *extra)
    steps_per_epoch = load_checkpoint(reference.last_checkpoint)["global_step"] // 2
    kill_at = steps_per_epoch + 3  # second epoch, one step after its mid-epoch checkpoint
    _killed_run(f"run_{stage}", killed_overrides, kill_at)
    saved = load_checkpoint(tmp_path / "killed" / "last.pt")
    assert (saved["epoch"], saved["step_in_epoch"]) == (1, 2)  # mid-epoch, before the kill

    torch.manual_seed(999)  # the resuming process starts from a different RNG state
    config, pinned = load_run_config(None, killed_overrides)
    resumed = function(config, resume=True, pinned_model_fields=pinned)

    expected = reference.model.state_dict()
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    assert resumed.history == reference.history
    final = load_checkpoint(tmp_path / "killed" / "last.pt")
    assert final["global_step"] == 2 * steps_per_epoch
