"""The real Northwestern-UCLA release (``nw_ucla/all_sqe``: 1,484 JSON sequences) read, prepared and
checked. Extra checks: the module skips as a whole where ../shared/data is absent (tests/data covers the
same code on the generated NW-UCLA folder of the ``skeleton_files`` fixture)."""

from __future__ import annotations

import json

import numpy as np
from shared_data import require_shared_data

from skeletonmae.cli.main import main
from skeletonmae.data.formats.nw_ucla import read_nw_ucla_folder
from skeletonmae.data.prepare import prepare_nw_ucla
from skeletonmae.data.store import load_split

ALL_SQE = require_shared_data("the NW-UCLA JSON files", "nw_ucla/all_sqe") / "nw_ucla" / "all_sqe"


def test_nw_ucla_folder_split_sizes():
    splits = read_nw_ucla_folder(ALL_SQE)
    assert splits["train"].num_samples == 1020 and splits["test"].num_samples == 464
    assert splits["train"].data.shape[1:] == (3, 201, 20, 1)
    assert splits["train"].lengths.min() == 1  # a one-frame sequence is kept


def test_nw_ucla(tmp_path):
    report = prepare_nw_ucla(ALL_SQE, tmp_path / "ucla", progress=False)
    assert report.counts == {"train": 1020, "test": 464}
    test = load_split(tmp_path / "ucla" / "test")
    assert test.data.shape == (464, 3, 201, 20, 1)
    assert test.meta["class_names"][9] == "carry" and test.meta["layout"] == "nw_ucla20"
    assert set(test.labels.tolist()) == set(range(10)) and test.lengths.min() >= 1
    assert all(name.endswith("_v03") for name in test.names)
    np.testing.assert_allclose(test.data[:, :, 0, 1, 0], 0.0, atol=1e-6)


def test_the_real_nw_ucla_sample_is_clean(tmp_path):
    prepared = tmp_path / "nw"
    assert main(["prepare", "convert", str(ALL_SQE), str(prepared)]) == 0
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert not [w for w in manifest["warnings"] if w["code"] in ("uncentred", "zero_frames", "nonfinite")]
