"""End-to-end preparation from raw folders: splits, manifest, bad files, resuming, workers, NW-UCLA
(generated files here; the real NW-UCLA folder: tests/real_data/test_nw_ucla_files.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from skeletonmae.data import shards
from skeletonmae.data.errors import PreparationError
from skeletonmae.data.prepare import prepare_ntu, prepare_nw_ucla
from skeletonmae.data.splits import BENCHMARKS
from skeletonmae.data.store import load_split, read_manifest
from skeletonmae.data.synthetic import write_synthetic_ntu
from skeletonmae.data.synthetic_motion import ACTIONS


@pytest.fixture(scope="module")
def raw_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    write_synthetic_ntu(
        folder,
        36,
        num_actions=6,
        seed=11,
        two_body_fraction=0.3,
        ghost_fraction=0.3,
        missing_frame_fraction=0.3,
    )
    return folder


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_every_benchmark_gets_train_and_test(raw_folder, tmp_path, benchmark):
    report = prepare_ntu(raw_folder, tmp_path / "ds", benchmark, progress=False, shard_size=10)
    assert report.counts["train"] > 0 and report.counts["test"] > 0
    assert sum(report.counts.values()) == 36 and report.skipped == ()
    train = load_split(tmp_path / "ds" / "train")
    assert train.data.shape[1:] == (3, 300, 25, 2) and train.data.dtype == np.float32
    assert set(train.labels.tolist()) <= {action - 1 for action, _, _ in ACTIONS[:6]}
    assert train.meta["benchmark"] == benchmark and train.meta["layout"] == "ntu25"
    assert train.meta["num_classes"] == (60 if benchmark.startswith("ntu60") else 120)
    assert train.meta["class_names"][22] == "hand waving" and train.meta["num_persons"] == 2
    for row in range(len(train)):
        length = train.lengths[row]
        assert 24 <= length <= 110
        assert not train.data[row, :, length:].any()  # zero padding after the valid frames
        np.testing.assert_allclose(train.data[row, :, 0, 1, 0], 0.0, atol=1e-6)  # centred on the spine
    assert list(train.names) == sorted(train.names)


def test_bad_files_are_listed_and_strict_fails(raw_folder, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_folder, raw)
    files = sorted(raw.glob("*.skeleton"))
    files[0].write_text(files[0].read_text()[:2000])  # truncated
    (raw / "not_an_ntu_name.skeleton").write_text("1\n0\n")
    missing = tmp_path / "missing.txt"
    missing.write_text("header\n\n\n" + files[1].stem + "\n")
    report = prepare_ntu(raw, tmp_path / "ds", "ntu60-xsub", progress=False, missing_list=missing)
    assert sum(report.counts.values()) == 34  # 36 - truncated - listed as missing
    manifest = read_manifest(tmp_path / "ds")
    reasons = {item["name"]: (item["kind"], item["reason"]) for item in manifest["skipped"]}
    assert reasons[files[0].stem][0] == "bad" and "truncated" in reasons[files[0].stem][1]
    assert "does not match the NTU pattern" in reasons["not_an_ntu_name"][1]
    assert reasons[files[1].stem] == ("excluded", "on the official missing-skeleton list")
    assert manifest["num_skipped"] == 3 and len(report.bad_files) == 2
    with pytest.raises(PreparationError, match="2 bad input file"):
        prepare_ntu(raw, tmp_path / "ds2", "ntu60-xsub", progress=False, strict=True, missing_list=missing)
    assert load_split(tmp_path / "ds2" / "train").data.shape[0] > 0  # written before failing


def test_resume_after_interruption_and_reuse(raw_folder, tmp_path, monkeypatch):
    real_run = shards.run_shard
    calls = []

    def flaky(job):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(job)
        return real_run(job)

    monkeypatch.setattr(shards, "run_shard", flaky)
    with pytest.raises(KeyboardInterrupt):
        prepare_ntu(raw_folder, tmp_path / "ds", "ntu120-xset", progress=False, shard_size=8)
    assert not (tmp_path / "ds" / "manifest.json").exists() and not (tmp_path / "ds" / "train").exists()
    monkeypatch.setattr(shards, "run_shard", real_run)
    report = prepare_ntu(raw_folder, tmp_path / "ds", "ntu120-xset", progress=False, shard_size=8)
    assert (report.shards_reused, report.shards_built) == (2, 3)
    again = prepare_ntu(raw_folder, tmp_path / "ds", "ntu120-xset", progress=False, shard_size=8)
    assert (again.shards_reused, again.shards_built) == (5, 0) and again.counts == report.counts


def test_two_workers_give_the_same_dataset(raw_folder, tmp_path):
    one = prepare_ntu(raw_folder, tmp_path / "one", "ntu60-xview", progress=False, shard_size=9)
    two = prepare_ntu(raw_folder, tmp_path / "two", "ntu60-xview", progress=False, shard_size=9, workers=2)
    assert one.counts == two.counts
    for split in ("train", "test"):
        a, b = load_split(tmp_path / "one" / split), load_split(tmp_path / "two" / split)
        np.testing.assert_array_equal(a.data, b.data)
        assert a.names == b.names


def test_denoising_counts_reach_the_manifest(raw_folder, tmp_path):
    prepare_ntu(raw_folder, tmp_path / "ds", "ntu60-xsub", progress=False, dtype="float16")
    manifest = read_manifest(tmp_path / "ds")
    assert sum(manifest["denoising_removed_bodies"].values()) >= 1
    assert manifest["settings"]["preprocess"]["length_threshold"] == 11
    assert load_split(tmp_path / "ds" / "test").data.dtype == np.float16
    meta = json.loads((tmp_path / "ds" / "test" / "meta.json").read_text())
    assert meta["split"] == "test" and meta["max_frames"] == 300


def test_prepare_nw_ucla_on_generated_files(skeleton_files, tmp_path):
    report = prepare_nw_ucla(skeleton_files.nw_ucla, tmp_path / "ucla", progress=False)
    assert report.counts == {"train": 48, "test": 24} and not report.skipped
    test = load_split(tmp_path / "ucla" / "test")
    assert test.meta["class_names"][5] == "stand up" and test.meta["layout"] == "nw_ucla20"
    assert set(test.labels.tolist()) == set(range(6)) and all(name.endswith("_v03") for name in test.names)
    np.testing.assert_allclose(test.data[:, :, 0, 1, 0], 0.0, atol=1e-6)  # centred on the first spine
