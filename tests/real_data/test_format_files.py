"""Real samples in the formats other toolkits publish: one NTU sample in ST-GCN layout
(``ntu/stgcn/example_ntu_stgcn_layout.npy``) and one pyskl annotation pickle
(``pyskl/example_ucf101_2d.pkl``), through the readers, the restricted unpickler and ``inspect``.
Extra checks: the module skips as a whole where ../shared/data is absent (tests/data/test_formats.py
and test_restricted_pickle.py cover the same readers on written files)."""

from __future__ import annotations

import json

import numpy as np
from shared_data import require_shared_data

from skeletonmae.cli.main import main
from skeletonmae.data.formats.pyskl import read_pyskl
from skeletonmae.data.formats.restricted_pickle import load_restricted_pickle
from skeletonmae.data.formats.stgcn import read_stgcn

ROOT = require_shared_data(
    "the ST-GCN and pyskl sample files",
    "ntu/stgcn/example_ntu_stgcn_layout.npy",
    "pyskl/example_ucf101_2d.pkl",
)
STGCN_NPY = ROOT / "ntu" / "stgcn" / "example_ntu_stgcn_layout.npy"
PYSKL_PKL = ROOT / "pyskl" / "example_ucf101_2d.pkl"


def test_real_stgcn_example():
    samples = read_stgcn(STGCN_NPY)
    assert samples.data.shape == (1, 3, 300, 25, 2)
    assert samples.lengths.tolist() == [72] and samples.labels.tolist() == [-1] and samples.layout == "ntu25"
    assert not np.asarray(samples.data)[0, ..., 1].any()


def test_real_pyskl_example():
    train = read_pyskl(PYSKL_PKL)["train"]
    assert train.data.shape == (1, 2, 163, 17, 2) and train.layout == "coco17"
    assert train.names == ("v_ApplyEyeMakeup_g01_c01",) and train.lengths.tolist() == [163]
    scored = read_pyskl(PYSKL_PKL, with_score=True)["train"]
    assert scored.data.shape[1] == 3


def test_the_real_pyskl_example_loads():
    content = load_restricted_pickle(PYSKL_PKL)
    assert content["keypoint"].shape == (2, 163, 17, 2) and content["total_frames"] == 163


def test_inspect_datasets(capsys):
    assert main(["inspect", str(STGCN_NPY), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    split = summary["splits"]["train"]
    assert split["frames_valid"]["max"] == 72 and split["persons_present"]["max"] == 1
    assert split["shape_NCTVM"] == [1, 3, 300, 25, 2]
    assert main(["inspect", str(PYSKL_PKL)]) == 0
    assert "coco17" in capsys.readouterr().out
