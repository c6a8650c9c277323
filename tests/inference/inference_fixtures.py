"""Checkpoints trained for a few steps on generated data in the real formats, shared by the
inference and CLI tests (no private data needed).

- NW-UCLA: the generated ``all_sqe``-style JSON files of the ``skeleton_files`` fixture (views 1+2
  train, view 3 test), prepared with the data layer, SkeletonMAE pre-training (2 steps) then
  fine-tuning from it (2 steps), and an AimCLR (contrastive) pre-training (2 steps).
- NTU layout (25 joints, 2 persons): generated real-format ``.skeleton`` files, prepared as the
  NTU-60 X-Sub benchmark, fine-tuned from scratch (2 steps).

Built once per test session (cached under pytest's base temp folder) with the ``cpu-small`` model
at 12 frames, so the whole build takes a few seconds.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from skeletonmae.data.prepare import prepare_ntu, prepare_nw_ucla
from skeletonmae.data.synthetic import write_synthetic_ntu
from skeletonmae.run_config import run_config_from_mapping
from skeletonmae.training.stages import run_finetune, run_pretrain

if TYPE_CHECKING:  # "conftest" names whichever conftest.py pytest imported last (tests/training has one)
    from conftest import SkeletonFiles


@dataclasses.dataclass(frozen=True)
class TrainedModels:
    nw_dataset: Path
    nw_pretrain: Path
    nw_finetune: Path
    nw_contrastive: Path
    ntu_dataset: Path
    ntu_finetune: Path


_CACHE: dict[Path, TrainedModels] = {}


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a shared 2-core machine the thread
    hand-offs of every small conv dominate; run the module on one thread, then restore."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _run_config(root: Path, output: Path, **sections: dict):
    data = {
        "data": {
            "root": str(root),
            "batch_size": 8,
            "num_workers": 0,
            "transform": {"num_frames": 12, "min_crop_frames": 6},
        },
        "model": {"preset": "cpu-small"},
        "mask": {"frame_ratio": 0.5, "joint_ratio": 0.5},
        "training": {"epochs": 1, "limit_train_steps": 2, "progress_bar": False, "device": "cpu", "seed": 3},
        "output_dir": str(output),
    }
    data.update(sections)
    return run_config_from_mapping(data)


def _nw_ucla_dataset(files: Path, work: Path) -> Path:
    prepare_nw_ucla(files, work / "nw_ucla", progress=False)
    return work / "nw_ucla"


def _ntu_dataset(work: Path) -> Path:
    raw = work / "ntu_raw"
    write_synthetic_ntu(raw, 40, num_actions=4, seed=5)
    prepare_ntu(raw, work / "ntu60", "ntu60-xsub", progress=False)
    return work / "ntu60"


def trained_models(base: Path, files: SkeletonFiles) -> TrainedModels:
    """Build (once per ``base``) the datasets and checkpoints described in the module docstring."""
    if base in _CACHE:
        return _CACHE[base]
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # see single_torch_thread
    try:
        _CACHE[base] = _build(base / "inference_models", files.nw_ucla)
    finally:
        torch.set_num_threads(previous)
    return _CACHE[base]


def _build(work: Path, nw_ucla_files: Path) -> TrainedModels:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    nw = _nw_ucla_dataset(nw_ucla_files, work)
    run_pretrain(_run_config(nw, work / "nw_pre"))
    pretrained = {"pretrained": str(work / "nw_pre" / "best.pt")}
    run_finetune(_run_config(nw, work / "nw_ft", finetune=pretrained))
    run_pretrain(_run_config(nw, work / "nw_aimclr", contrastive={"method": "aimclr", "queue_size": 16}))
    ntu = _ntu_dataset(work)
    run_finetune(_run_config(ntu, work / "ntu_ft"))
    return TrainedModels(
        nw,
        work / "nw_pre" / "best.pt",
        work / "nw_ft" / "best.pt",
        work / "nw_aimclr" / "best.pt",
        ntu,
        work / "ntu_ft" / "best.pt",
    )


def first_ntu_file(files: SkeletonFiles) -> Path:
    """One generated NTU ``.skeleton`` file (25 joints: the wrong layout for an NW-UCLA model)."""
    return sorted(files.ntu.glob("*.skeleton"))[0]
