"""The prepared-split store: round trip, memory mapping, atomic replacement, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import (
    SplitWriter,
    load_split,
    read_manifest,
    to_samples,
    write_dataset,
    write_split,
)


def _samples(count: int = 5, dtype=np.float32) -> SkeletonSamples:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(count, 3, 12, 20, 1)).astype(dtype)
    return SkeletonSamples(
        data,
        np.arange(count) % 3,
        tuple(f"n{i}" for i in range(count)),
        np.full(count, 12),
        "nw_ucla20",
        ("a", "b", "c"),
    )


def test_round_trip_and_meta(tmp_path):
    samples = _samples()
    write_split(tmp_path / "train", samples, benchmark="toy")
    split = load_split(tmp_path / "train")
    assert isinstance(split.data, np.memmap) and not split.data.flags.writeable
    np.testing.assert_array_equal(split.data, samples.data)
    assert split.names == samples.names and split.labels.tolist() == [0, 1, 2, 0, 1]
    assert split.meta["layout"] == "nw_ucla20" and split.meta["num_classes"] == 3
    assert (
        split.meta["num_persons"] == 1 and split.meta["max_frames"] == 12 and split.meta["benchmark"] == "toy"
    )
    assert len(split) == 5 and split.num_classes == 3
    in_memory = load_split(tmp_path / "train", mmap=False)
    assert not isinstance(in_memory.data, np.memmap)
    np.testing.assert_array_equal(to_samples(split).data, samples.data)


def test_float16(tmp_path):
    write_split(tmp_path / "s", _samples(dtype=np.float16))
    assert load_split(tmp_path / "s").data.dtype == np.float16


def test_an_interrupted_write_leaves_the_old_split_and_no_debris(tmp_path):
    write_split(tmp_path / "train", _samples(3))
    with pytest.raises(KeyboardInterrupt):
        with SplitWriter(tmp_path / "train", 4, (3, 12, 20, 1)) as writer:
            writer.data[0] = 1.0
            raise KeyboardInterrupt
    assert load_split(tmp_path / "train").data.shape[0] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train"]


def test_uncommitted_split_never_loads(tmp_path):
    with pytest.raises(RuntimeError):
        with SplitWriter(tmp_path / "test", 2, (3, 4, 20, 1)):
            raise RuntimeError("boom")
    with pytest.raises(DataFormatError, match="not a prepared split"):
        load_split(tmp_path / "test")


def test_inconsistent_split_is_reported(tmp_path):
    write_split(tmp_path / "train", _samples(4))
    (tmp_path / "train" / "names.json").write_text(json.dumps(["only-one"]))
    with pytest.raises(DataFormatError, match=r"names\.json: 1 entries but data\.npy has 4 samples"):
        load_split(tmp_path / "train")
    (tmp_path / "train" / "meta.json").write_text("{")
    with pytest.raises(DataFormatError, match="meta.json, line 1: invalid JSON"):
        load_split(tmp_path / "train")


def test_dataset_manifest(tmp_path):
    write_dataset(tmp_path / "ds", {"train": _samples(4), "test": _samples(2)}, {"note": "x"})
    manifest = read_manifest(tmp_path / "ds")
    assert manifest["counts"] == {"train": 4, "test": 2} and manifest["note"] == "x"
    with pytest.raises(DataFormatError, match="no manifest.json"):
        read_manifest(tmp_path)


def test_samples_validation():
    good = _samples(2)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        SkeletonSamples(good.data, np.array([0, 3]), good.names, good.lengths, good.layout, good.class_names)
    with pytest.raises(ValueError, match="lengths must lie in 0..12"):
        SkeletonSamples(good.data, good.labels, good.names, np.array([1, 13]), good.layout, good.class_names)
