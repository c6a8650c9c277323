"""SkeletonDataset and make_loader: shapes, determinism across workers / resumption, batched = per-sample."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.loader import EpochBatchSampler, make_loader
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_split
from skeletonmae.data.subsets import fraction_indices, label_fraction_indices
from skeletonmae.run_config import TransformConfig


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory):
    rng = np.random.default_rng(0)
    count = 24
    lengths = rng.integers(1, 80, count)
    data = np.zeros((count, 3, 80, 25, 2), np.float32)
    for row, length in enumerate(lengths):
        data[row, :, :length] = rng.normal(size=(3, length, 25, 2))
    samples = SkeletonSamples(
        data,
        np.arange(count) % 4,
        tuple(f"s{i}" for i in range(count)),
        lengths,
        "ntu25",
        ("a", "b", "c", "d"),
    )
    return write_split(tmp_path_factory.mktemp("ds") / "train", samples)


SMALL = TransformConfig(num_frames=24, min_crop_frames=8)


def test_items_shape_label_index(split_folder):
    dataset = SkeletonDataset(split_folder, SMALL, train=True, seed=1)
    x, label, index = dataset[5]
    assert x.shape == (3, 24, 25, 2) and x.dtype == torch.float32
    assert label == 1 and index == 5 and len(dataset) == 24 and dataset.num_classes == 4
    assert dataset[-1][2] == 23
    with pytest.raises(IndexError):
        dataset[24]


def test_augmentation_depends_on_seed_epoch_index_only(split_folder):
    a = SkeletonDataset(split_folder, SMALL, train=True, seed=1)
    b = SkeletonDataset(split_folder, SMALL, train=True, seed=1)
    b.set_epoch(3)
    a.set_epoch(3)
    torch.testing.assert_close(a[7][0], b[7][0], rtol=0, atol=0)
    a.set_epoch(4)
    assert not torch.equal(a[7][0], b[7][0])
    test = SkeletonDataset(split_folder, SMALL, train=False)
    test.set_epoch(9)
    torch.testing.assert_close(test[7][0], SkeletonDataset(split_folder, SMALL, train=False)[7][0])


def test_get_batch_equals_items(split_folder):
    dataset = SkeletonDataset(
        split_folder, TransformConfig(num_frames=24, min_crop_frames=8, stream="motion"), train=True, seed=2
    )
    dataset.set_epoch(1)
    x, labels, positions = dataset.get_batch([3, 9, 3, 0])
    for k, position in enumerate([3, 9, 3, 0]):
        item, label, _ = dataset[position]
        torch.testing.assert_close(x[k], item, rtol=0, atol=0)
        assert labels[k] == label and positions[k] == position


def test_subset_indices_and_pickling(split_folder):
    dataset = SkeletonDataset(split_folder, SMALL, train=False, indices=[20, 4])
    assert len(dataset) == 2 and dataset.labels.tolist() == [0, 0]
    torch.testing.assert_close(dataset[1][0], SkeletonDataset(split_folder, SMALL, train=False)[4][0])
    payload = pickle.dumps(dataset)
    assert len(payload) < 20_000  # the folder path travels, not the data
    clone = pickle.loads(payload)
    torch.testing.assert_close(clone[0][0], dataset[0][0])
    with pytest.raises(IndexError, match="indices must lie in 0..23"):
        SkeletonDataset(split_folder, SMALL, indices=[24])


def _epoch(loader, epoch):
    loader.set_epoch(epoch)
    return [(x.clone(), labels.clone(), idx.clone()) for x, labels, idx in loader]


@pytest.mark.parametrize("batched", [True, False])
def test_loader_is_reproducible_across_workers_and_resumption(split_folder, batched):
    dataset = SkeletonDataset(split_folder, SMALL, train=True, seed=3)
    inline = make_loader(dataset, 5, shuffle=True, seed=3, batched=batched)
    first = [_epoch(inline, epoch) for epoch in range(3)]
    assert len(first[0]) == len(inline) == 5 and first[0][-1][0].shape[0] == 4
    assert sorted(torch.cat([b[2] for b in first[0]]).tolist()) == list(range(24))
    assert not torch.equal(first[0][0][2], first[1][0][2])  # a new order every epoch
    resumed = make_loader(
        SkeletonDataset(split_folder, SMALL, train=True, seed=3),
        5,
        shuffle=True,
        seed=3,
        batched=batched,
        num_workers=2,
    )
    again = _epoch(resumed, 2)  # a fresh process resuming at epoch 2, with two workers
    for (x1, y1, i1), (x2, y2, i2) in zip(first[2], again):
        torch.testing.assert_close(x1, x2, rtol=0, atol=0)
        assert torch.equal(y1, y2) and torch.equal(i1, i2)


def test_batched_and_per_sample_loaders_agree(split_folder):
    dataset = SkeletonDataset(split_folder, SMALL, train=True, seed=4)
    batched = _epoch(make_loader(dataset, 8, seed=4, batched=True, drop_last=True), 1)
    single = _epoch(make_loader(dataset, 8, seed=4, batched=False, drop_last=True), 1)
    assert len(batched) == 3
    for (x1, _, i1), (x2, _, i2) in zip(batched, single):
        torch.testing.assert_close(x1, x2, rtol=0, atol=0)
        assert torch.equal(i1, i2)
    with pytest.raises(ValueError, match="persistent_workers needs batched=True"):
        make_loader(dataset, 8, batched=False, num_workers=1, persistent_workers=True)


def test_epoch_batch_sampler():
    sampler = EpochBatchSampler(10, 4, shuffle=False, drop_last=True)
    assert [r.positions for r in sampler] == [(0, 1, 2, 3), (4, 5, 6, 7)] and len(sampler) == 2
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        EpochBatchSampler(10, 0, shuffle=True)


def test_label_fraction_indices():
    labels = np.repeat(np.arange(5), [100, 50, 20, 3, 1])
    labels = np.concatenate([labels, [-1, -1]])
    ten = label_fraction_indices(labels, 0.10, seed=0)
    counts = np.bincount(labels[ten], minlength=5)
    assert counts.tolist() == [10, 5, 2, 1, 1]  # balanced per class, at least one each
    one = label_fraction_indices(labels, 0.01, seed=0)
    assert set(one) <= set(ten)  # nested for one seed
    assert np.array_equal(ten, label_fraction_indices(labels, 0.10, seed=0))
    assert not np.array_equal(ten, label_fraction_indices(labels, 0.10, seed=1))
    assert (labels[label_fraction_indices(labels, 1.0)] >= 0).all() and len(
        label_fraction_indices(labels, 1.0)
    ) == 174
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        label_fraction_indices(labels, 0.0)


def test_fraction_indices_are_nested_seeded_and_ignore_labels():
    quarter, half = fraction_indices(10, 0.25, seed=2), fraction_indices(10, 0.5, seed=2)
    assert len(quarter) == 3 and len(half) == 5  # round half up: 2.5 -> 3
    assert set(quarter) <= set(half) and np.all(np.diff(half) > 0)
    assert not np.array_equal(half, fraction_indices(10, 0.5, seed=3))
    assert np.array_equal(fraction_indices(7, 1.0), np.arange(7)) and len(fraction_indices(7, 0.01)) == 1
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        fraction_indices(10, 1.5)


def test_align_facing_turns_every_batch_and_refuses_2d_splits_naming_the_fix(split_folder, tmp_path):
    aligned = TransformConfig(num_frames=24, min_crop_frames=8, align_facing=True)
    x, _, _ = SkeletonDataset(split_folder, aligned, train=False).get_batch(np.arange(4))
    pairs = SkeletonDataset(split_folder, aligned).geometry["pairs"]
    across = (x[:, :, :, pairs[:, 1], 0] - x[:, :, :, pairs[:, 0], 0]).sum(dim=(2, 3))  # (B, 3)
    assert torch.allclose(across[:, 2], torch.zeros(4), atol=1e-3) and (across[:, 0] > 0).all()
    flat = SkeletonSamples(
        np.ones((2, 2, 8, 25, 1), np.float32), np.arange(2), ("a", "b"), np.full(2, 8), "ntu25", ("x", "y")
    )
    folder = write_split(tmp_path / "flat", flat)
    with pytest.raises(ValueError, match=r"flat.*align_facing=false"):
        SkeletonDataset(folder, aligned)
