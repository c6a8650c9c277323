"""Checkpoints: atomic writes, weights-only loads, RNG capture/restore, wrapper unwrapping."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from skeletonmae.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from skeletonmae.distributed import unwrap_model
from skeletonmae.training.rng_state import capture_rng_state, restore_rng_state


def _draw_all(generator: torch.Generator) -> tuple:
    return (
        random.random(),
        float(np.random.rand()),
        torch.rand(3).tolist(),
        torch.rand(2, generator=generator).tolist(),
    )


def test_rng_state_round_trips_through_a_weights_only_checkpoint(tmp_path: Path):
    generator = torch.Generator().manual_seed(7)
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    state = capture_rng_state({"mask": generator})
    expected = _draw_all(generator)
    model = torch.nn.Linear(3, 2)  # consumes torch's stream too
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    path = save_checkpoint(
        tmp_path / "last.pt",
        {
            "format_version": 1,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng": state,
            "epoch": 2,
            "config": {"optim": {"lr": 0.1}},
            "best_metric": None,
        },
    )
    _draw_all(generator)  # move every stream on
    loaded = load_checkpoint(path)
    restore_rng_state(loaded["rng"], {"mask": generator})
    assert _draw_all(generator) == expected
    assert loaded["epoch"] == 2 and loaded["config"] == {"optim": {"lr": 0.1}}
    fresh = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=0.1)
    fresh.load_state_dict(loaded["optimizer"])  # optimiser state survives weights_only
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_failed_write_keeps_the_previous_checkpoint(tmp_path: Path):
    path = save_checkpoint(tmp_path / "last.pt", {"format_version": 1, "model": {}, "epoch": 1, "config": {}})

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_checkpoint(path, {"format_version": 1, "model": Unpicklable(), "epoch": 9, "config": {}})
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_load_rejects_missing_damaged_foreign_and_unsafe_files(tmp_path: Path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="damaged.pt: cannot be read"):
        load_checkpoint(damaged)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="missing format_version, model, epoch, config"):
        load_checkpoint(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format_version": 1, "model": {}, "epoch": 0, "config": Path("x")}, unsafe)
    with pytest.raises(CheckpointError, match="unsafe.pt: cannot be read as a weights-only"):
        load_checkpoint(unsafe)


def test_unwrap_model_strips_compile_wrapper():
    model = torch.nn.Linear(2, 2)

    class FakeCompiled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self._orig_mod = inner

    assert unwrap_model(FakeCompiled(model)) is model
    assert unwrap_model(model) is model
