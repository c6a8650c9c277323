"""Several prepared datasets read as one (``data.root`` a list), and weighted epochs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skeletonmae.data.binding import open_split
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.sources import stack_splits, weighted_epoch
from skeletonmae.data.store import load_split, write_dataset
from skeletonmae.run_config import DataConfig, TransformConfig


def _write(
    root: Path,
    count: int,
    seed: int,
    *,
    labelled: bool,
    frames: int = 20,
    persons: int = 1,
    layout: str = "nw_ucla20",
    joints: int = 20,
) -> Path:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(count, 3, frames, joints, persons)).astype(np.float32)
    labels = np.arange(count) % 2 if labelled else np.full(count, -1)
    samples = SkeletonSamples.from_arrays(
        data, labels, layout=layout, class_names=("a", "b") if labelled else (), name_prefix=root.name
    )
    write_dataset(root, {"train": samples, "test": samples.select(np.arange(2))})
    return root


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("sources")
    corpus = _write(base / "corpus", 10, 0, labelled=False, frames=30)
    labelled = _write(base / "labelled", 6, 1, labelled=True, frames=20, persons=2)
    other = _write(base / "other", 4, 2, labelled=False)
    return corpus, labelled, other


def test_a_stack_reads_each_part_as_its_own_dataset_would(roots):
    corpus, labelled, _ = roots
    parts = [load_split(corpus / "train"), load_split(labelled / "train")]
    stacked = stack_splits(parts)
    assert len(stacked) == 16 and stacked.num_persons == 2 and stacked.num_classes == 2
    assert stacked.labels.tolist() == [-1] * 10 + [0, 1, 0, 1, 0, 1]
    transform = TransformConfig(num_frames=12, min_crop_frames=8)
    both = SkeletonDataset(stacked, transform, train=True, seed=3)
    both.set_epoch(2)
    alone = [SkeletonDataset(part, transform, train=False) for part in parts]
    x, labels, _ = SkeletonDataset(stacked, transform, train=False).get_batch([12, 1, 15])
    assert x.shape == (3, 3, 12, 20, 2) and labels.tolist() == [0, -1, 1]
    assert np.array_equal(x[0].numpy(), alone[1].get_batch([2])[0][0].numpy())
    assert np.array_equal(x[1, ..., :1].numpy(), alone[0].get_batch([1])[0][0].numpy())
    assert not x[1, ..., 1:].any()  # the one-person part gets an empty second person
    # Augmentation is keyed by the stack row, so a batch does not depend on its neighbours.
    first = both.get_batch([3, 11])[0]
    assert np.array_equal(first[1].numpy(), both.get_batch([11])[0][0].numpy())


def test_data_root_lists_read_a_split_of_every_root_or_of_a_named_one(roots):
    corpus, labelled, other = roots
    config = DataConfig(root=(corpus, labelled, other))
    assert len(open_split(config, "train")) == 20
    assert len(open_split(config, "labelled/test")) == 2
    with pytest.raises(
        ValueError, match=r"no folder of data.root is named 'nope'.*\['corpus', 'labelled', 'other'\]"
    ):
        open_split(config, "nope/test")
    with pytest.raises(FileNotFoundError, match="none of the folders of data.root has it"):
        open_split(config, "val")


def test_roots_of_another_layout_or_other_classes_are_refused_naming_both(tmp_path, roots):
    corpus = roots[0]
    ntu = _write(tmp_path / "ntu", 3, 4, labelled=False, layout="ntu25", joints=25)
    with pytest.raises(
        ValueError, match=rf"{corpus / 'train'} \(layout nw_ucla20\) and {ntu / 'train'} \(layout ntu25\)"
    ):
        open_split(DataConfig(root=(corpus, ntu)), "train")
    labelled = _write(tmp_path / "abc", 3, 5, labelled=True)
    relabelled = tmp_path / "xyz"
    samples = SkeletonSamples.from_arrays(
        np.ones((2, 3, 5, 20, 1), np.float32), np.array([0, 1]), layout="nw_ucla20", class_names=("x", "y")
    )
    write_dataset(relabelled, {"train": samples})
    with pytest.raises(
        ValueError, match=rf"{labelled / 'train'} and {relabelled / 'train'} name different classes"
    ):
        open_split(DataConfig(root=(labelled, relabelled)), "train")


def test_root_weights_must_match_the_roots():
    with pytest.raises(ValueError, match="root_weights"):
        DataConfig(root=(Path("a"), Path("b")), root_weights=(1.0,))
    with pytest.raises(ValueError, match="root_weights"):
        DataConfig(root=(Path("a"), Path("b")), root_weights=(1.0, 0.0))
    with pytest.raises(ValueError, match="label_fraction or pretrain_fraction"):
        DataConfig(root=(Path("a"), Path("b")), root_weights=(1.0, 1.0), pretrain_fraction=0.5)


def test_a_weighted_epoch_draws_each_source_its_share():
    offsets = np.array([0, 90, 100])  # 90 corpus rows, 10 labelled rows
    epoch = weighted_epoch(offsets, np.array([0.5, 0.5]), seed=1, epoch=0)
    rows = epoch % 100
    assert len(epoch) == 100 and (rows < 90).sum() == 50 and (rows >= 90).sum() == 50
    small = epoch[rows >= 90]
    # The small source passes five times through a permutation of itself; each pass is a new key.
    assert sorted(np.bincount(rows[rows >= 90] - 90).tolist()) == [5] * 10
    assert len(set(small.tolist())) == 50
    assert len(set(epoch[rows < 90].tolist())) == 50  # the large one: 50 distinct rows, no repeat
    assert np.array_equal(epoch, weighted_epoch(offsets, np.array([0.5, 0.5]), seed=1, epoch=0))
    assert not np.array_equal(epoch, weighted_epoch(offsets, np.array([0.5, 0.5]), seed=1, epoch=1))
