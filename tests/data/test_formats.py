"""Readers and writers of the formats users hold, and the converter between them."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError, ForbiddenPickleError
from skeletonmae.data.formats.convert import (
    FORMATS,
    WRITABLE,
    convert,
    detect_format,
    read_samples,
    write_samples,
)
from skeletonmae.data.formats.ctrgcn import read_ctrgcn_npz
from skeletonmae.data.formats.generic import read_generic_npz
from skeletonmae.data.formats.nw_ucla import read_nw_ucla_file, read_nw_ucla_folder
from skeletonmae.data.formats.pyskl import read_pyskl
from skeletonmae.data.samples import SkeletonSamples, valid_lengths


def _samples(
    count: int, frames: int = 30, persons: int = 2, seed: int = 0, prefix: str = "s"
) -> SkeletonSamples:
    rng = np.random.default_rng(seed)
    data = np.zeros((count, 3, frames, 25, persons), np.float32)
    lengths = rng.integers(5, frames + 1, count)
    for row, length in enumerate(lengths):
        data[row, :, :length, :, 0] = rng.normal(size=(3, length, 25))
    return SkeletonSamples(
        data,
        rng.integers(0, 60, count),
        tuple(f"{prefix}{i:03d}" for i in range(count)),
        lengths.astype(np.int64),
        "ntu25",
        tuple(f"c{i}" for i in range(60)),
    )


def _assert_same(a: SkeletonSamples, b: SkeletonSamples, names: bool = True) -> None:
    """Equal samples; the padded frame count may differ (pyskl stores each sample at its own length)."""
    frames = min(a.data.shape[2], b.data.shape[2])
    np.testing.assert_array_equal(np.asarray(a.data)[:, :, :frames], np.asarray(b.data)[:, :, :frames])
    assert not np.asarray(a.data)[:, :, frames:].any() and not np.asarray(b.data)[:, :, frames:].any()
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert a.layout == b.layout
    if names:
        assert a.names == b.names


@pytest.mark.parametrize("fmt", WRITABLE)
def test_every_writable_format_round_trips(tmp_path, fmt):
    splits = {"train": _samples(7, prefix="tr"), "test": _samples(4, seed=1, prefix="te")}
    target = (
        tmp_path
        / {"prepared": "ds", "stgcn": "st", "ctrgcn-npz": "x.npz", "pyskl": "x.pkl", "generic-npz": "g.npz"}[
            fmt
        ]
    )
    write_samples(target, splits, fmt)
    assert detect_format(target) == fmt
    loaded = read_samples(target)
    assert set(loaded) == {"train", "test"}
    for split in splits:
        _assert_same(splits[split], loaded[split], names=fmt != "ctrgcn-npz")  # CTR-GCN files carry no names


def test_ctrgcn_feature_order(tmp_path):
    x = np.arange(2 * 4 * 150, dtype=np.float32).reshape(2, 4, 150)  # (N, T, M*V*C)
    y = np.eye(60, dtype=np.float32)[[3, 7]]
    np.savez(tmp_path / "NTU60_CS.npz", x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    train = read_ctrgcn_npz(tmp_path / "NTU60_CS.npz")["train"]
    assert train.data.shape == (2, 3, 4, 25, 2) and train.labels.tolist() == [3, 7]
    # person 1, joint 2, coordinate z of frame 3 sits at feature (1 * 25 + 2) * 3 + 2
    assert train.data[1, 2, 3, 2, 1] == x[1, 3, (1 * 25 + 2) * 3 + 2]
    assert train.class_names[3] == "brushing hair"
    np.savez(tmp_path / "bad.npz", x_train=x, y_train=y)
    with pytest.raises(DataFormatError, match="key 'x_test': missing"):
        read_ctrgcn_npz(tmp_path / "bad.npz")


def test_stgcn_label_pickle_is_restricted(tmp_path):
    np.save(tmp_path / "train_data_joint.npy", np.ones((2, 3, 5, 25, 2), np.float32))

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "train_label.pkl").write_bytes(pickle.dumps((["a", "b"], [Evil(), 1])))
    with pytest.raises(ForbiddenPickleError, match="builtins.print"):
        read_samples(tmp_path)
    (tmp_path / "train_label.pkl").write_bytes(pickle.dumps((["a"], [1])))
    with pytest.raises(DataFormatError, match="1 names and 1 labels for 2 samples"):
        read_samples(tmp_path)


def test_pyskl_splits_and_errors(tmp_path):
    ann = [
        {"frame_dir": f"v{i}", "label": i % 3, "total_frames": 4 + i, "keypoint": np.ones((1, 4 + i, 17, 2))}
        for i in range(5)
    ]
    path = tmp_path / "a.pkl"
    path.write_bytes(
        pickle.dumps(
            {
                "split": {
                    "xsub_train": ["v0", "v1", "v2"],
                    "xsub_val": ["v3", "v4"],
                    "xview_train": ["v0"],
                    "xview_val": ["v1"],
                },
                "annotations": ann,
            }
        )
    )
    with pytest.raises(DataFormatError, match="several benchmarks"):
        read_pyskl(path)
    splits = read_pyskl(path, split_prefix="xsub")
    assert splits["train"].names == ("v0", "v1", "v2") and splits["test"].lengths.tolist() == [7, 8]
    del ann[2]["label"]
    path.write_bytes(pickle.dumps(ann))
    with pytest.raises(DataFormatError, match=r"annotations\[2\]\.label"):
        read_pyskl(path)


def test_generic_format_validation(tmp_path):
    data = np.zeros((3, 3, 10, 17, 1), np.float32)
    data[:, :, :6] = 1.0
    np.savez(
        tmp_path / "mine.npz",
        data=data,
        labels=np.array([0, 1, 1]),
        split=np.array(["train", "test", "train"]),
    )
    splits = read_generic_npz(tmp_path / "mine.npz")
    assert splits["train"].num_samples == 2 and splits["train"].layout == "coco17"
    assert splits["test"].lengths.tolist() == [6]
    np.savez(tmp_path / "extra.npz", data=data, labels=np.zeros(3), colour=np.zeros(3))
    with pytest.raises(DataFormatError, match="key 'colour': unknown key"):
        read_generic_npz(tmp_path / "extra.npz")
    np.savez(tmp_path / "short.npz", data=data, labels=np.zeros(2))
    with pytest.raises(DataFormatError, match=r"key 'labels': expected shape \(3,\)"):
        read_generic_npz(tmp_path / "short.npz")
    bad = data.copy()
    bad[0, 0, 0, 0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", data=bad, labels=np.zeros(3))
    with pytest.raises(DataFormatError, match="non-finite"):
        read_generic_npz(tmp_path / "nan.npz")
    np.savez(tmp_path / "layout.npz", data=data, labels=np.zeros(3), layout=np.array("ntu25"))
    with pytest.raises(DataFormatError, match="layout ntu25 has 25 joints, data has 17"):
        read_generic_npz(tmp_path / "layout.npz")


def test_nw_ucla_files(skeleton_files, tmp_path):
    sequence = read_nw_ucla_file(skeleton_files.nw_ucla / "a01_s01_e00_v01.json")
    assert sequence.joints.shape[1:] == (20, 3) and sequence.label == 0 and sequence.view == 1
    (tmp_path / "a01_s01_e00_v01.json").write_text(
        '{"file_name": "a01_s01_e00_v01", "skeletons": [], "label": 1}'
    )
    with pytest.raises(DataFormatError, match="key 'skeletons': no frames"):
        read_nw_ucla_file(tmp_path / "a01_s01_e00_v01.json")
    (tmp_path / "a01_s01_e00_v01.json").write_text(
        '{"file_name": "a01_s01_e00_v01", "skeletons": [[[1, 2]]], "label": 1}'
    )
    with pytest.raises(DataFormatError, match=r"expected shape \(T, 20, 3\)"):
        read_nw_ucla_file(tmp_path / "a01_s01_e00_v01.json")
    (tmp_path / "a01_s01_e00_v01.json").write_text(
        '{"file_name": "a01_s01_e00_v01", "skeletons": [[[1, 2, 3]]] , "label": 11'
    )
    with pytest.raises(DataFormatError, match="line 1: invalid JSON"):
        read_nw_ucla_file(tmp_path / "a01_s01_e00_v01.json")


def test_nw_ucla_folder_splits_by_view(skeleton_files):
    """Views 1 and 2 train, view 3 tests; every sequence is padded to the longest."""
    splits = read_nw_ucla_folder(skeleton_files.nw_ucla)
    assert splits["train"].num_samples == 48 and splits["test"].num_samples == 24
    assert all(name.endswith(("_v01", "_v02")) for name in splits["train"].names)
    assert all(name.endswith("_v03") for name in splits["test"].names)
    longest = max(splits[name].lengths.max() for name in splits)
    assert splits["train"].data.shape[1:] == (3, longest, 20, 1)


def test_convert_and_detection_errors(tmp_path):
    splits = {"train": _samples(3), "test": _samples(2, seed=3)}
    write_samples(tmp_path / "g.npz", splits, "generic-npz")
    counts, _ = convert(tmp_path / "g.npz", tmp_path / "prepared")
    assert counts == {"train": 3, "test": 2}
    _assert_same(read_samples(tmp_path / "prepared")["test"], splits["test"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataFormatError, match="unknown file type '.txt'"):
        detect_format(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="cannot write format 'nw-ucla'"):
        write_samples(tmp_path / "x", splits, "nw-ucla")
    assert set(WRITABLE) < set(FORMATS)


def test_valid_lengths():
    data = np.zeros((3, 3, 10, 2, 1), np.float32)
    data[0, :, :4] = 1
    data[1, 0, 7, 1, 0] = -2
    assert valid_lengths(data, chunk=2).tolist() == [4, 8, 0]
