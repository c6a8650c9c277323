"""Frozen-feature probe: the MAMP head, separable features, untouched encoder, raw features."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: F401
from test_knn import reference_knn_accuracy

from skeletonmae.config import FieldValueError
from skeletonmae.data.store import load_split
from skeletonmae.data.subsets import label_fraction_indices
from skeletonmae.inference.checkpoint_model import load_inference_model
from skeletonmae.inference.features import SplitFeatures, embed_split, raw_split_features
from skeletonmae.inference.knn import KnnConfig
from skeletonmae.inference.probe import (
    ProbeConfig,
    build_probe_head,
    probe_features,
    probe_splits,
    train_linear_probe,
)

FAST = ProbeConfig(epochs=3, batch_size=8, knn=KnnConfig(k=5))


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def test_probe_head_is_a_non_affine_batchnorm_then_linear():
    head = build_probe_head(16, 5, seed=0)
    assert isinstance(head.norm, torch.nn.BatchNorm1d) and not head.norm.affine
    assert head.norm.weight is None and head.norm.bias is None
    assert [name for name, _ in head.named_parameters()] == ["fc.weight", "fc.bias"]
    assert torch.equal(build_probe_head(16, 5, seed=0).fc.weight, head.fc.weight)  # seeded


def _separable(count: int, seed: int, num_classes: int = 4, dim: int = 12):
    """Gaussian clusters around shifted class means, offset far from the origin (so that the
    BatchNorm matters) and on a large scale."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % num_classes
    means = 3.0 * np.eye(num_classes, dim)
    features = 50.0 * (means[labels] + 0.3 * rng.standard_normal((count, dim))) + 100.0
    return features.astype(np.float32), labels


def test_linear_probe_reaches_full_accuracy_on_linearly_separable_features():
    train, train_labels = _separable(200, 0)
    test, test_labels = _separable(80, 1)
    config = ProbeConfig(epochs=20, batch_size=32)
    result = train_linear_probe(train, train_labels, test, test_labels, 4, config)
    assert result.final_top1 == pytest.approx(1.0)
    assert len(result.history) == 20 and result.best_top1 >= result.final_top1
    again = train_linear_probe(train, train_labels, test, test_labels, 4, config)
    assert again.history == result.history  # fixed seed: the same run twice
    rng_state = torch.get_rng_state()
    train_linear_probe(train, train_labels, test, test_labels, 4, FAST)
    assert torch.equal(torch.get_rng_state(), rng_state)  # global random state left alone


@pytest.mark.parametrize(
    "field, value", [("epochs", 0), ("batch_size", 1), ("lr", 0.0), ("momentum", 1.0), ("weight_decay", -1.0)]
)
def test_probe_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(FieldValueError, match=field):
        ProbeConfig(**{field: value})


def test_probing_a_checkpoint_leaves_the_encoder_untouched(models):
    model = load_inference_model(models.nw_pretrain)
    before = {k: v.clone() for k, v in model.classifier.state_dict().items()}
    train = load_split(models.nw_dataset / "train")
    test = load_split(models.nw_dataset / "test")
    results = probe_splits(("encoder", "random-init", "raw"), train, test, model, model.transform, 10, FAST)
    assert [r.features for r in results] == ["encoder", "random-init", "raw"]
    after = model.classifier.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included
    assert all(p.grad is None for p in model.classifier.parameters())
    assert not model.classifier.training
    dim = model.model_config.feature_dim
    assert [r.feature_dim for r in results[:2]] == [dim, dim]
    assert (
        results[0].knn_top1 != results[1].knn_top1 or results[0].linear.history != results[1].linear.history
    )  # a different encoder
    for result in results:
        assert result.num_train == len(train) and result.num_test == len(test)
        assert 0.0 <= result.linear.final_top1 <= 1.0 and result.knn_k == 5


def test_tuple_pooling_probes_time_ordered_features(models):
    model = load_inference_model(models.nw_pretrain)
    train = load_split(models.nw_dataset / "train")
    config = dataclasses.replace(FAST, pool="tuple")
    (result,) = probe_splits(("encoder",), train, train, model, model.transform, 10, config)
    cfg = model.model_config
    assert result.feature_dim == cfg.feature_dim * cfg.num_frames // cfg.tuple_len
    with pytest.raises(FieldValueError, match="pool"):
        ProbeConfig(pool="joint")


def test_few_label_probes_train_on_fine_tunings_labelled_subset():
    train, train_labels = _separable(200, 0)
    test, test_labels = _separable(80, 1)
    split = SplitFeatures(train, train_labels, tuple(f"s{i}" for i in range(200)), "train")
    held_out = SplitFeatures(test, test_labels, tuple(f"t{i}" for i in range(80)), "test")
    config = dataclasses.replace(FAST, label_fraction=0.1, label_seed=3)
    result = probe_features("raw", split, held_out, 4, config)
    rows = label_fraction_indices(train_labels, 0.1, 3)
    assert result.num_train == len(rows) == 20
    subset = SplitFeatures(train[rows], train_labels[rows], tuple(split.names[i] for i in rows), "train")
    assert probe_features("raw", subset, held_out, 4, FAST).to_dict() == result.to_dict()
    with pytest.raises(FieldValueError, match="label_fraction"):
        ProbeConfig(label_fraction=0.0)


def test_probe_knn_matches_the_reference_and_runs_alone_without_the_linear_probe():
    train, train_labels = _separable(120, 0, num_classes=6)
    test, test_labels = _separable(40, 1, num_classes=6)
    test = test + 40.0 * np.random.default_rng(2).standard_normal(test.shape).astype(np.float32)  # overlap
    split = SplitFeatures(train, train_labels, tuple(f"s{i}" for i in range(120)), "train")
    held_out = SplitFeatures(test, test_labels, tuple(f"t{i}" for i in range(40)), "test")
    knn = KnnConfig(k=9, temperature=0.2, standardize=True)
    full = probe_features("raw", split, held_out, 6, dataclasses.replace(FAST, knn=knn))
    alone = probe_features("raw", split, held_out, 6, dataclasses.replace(FAST, knn=knn, linear=False))
    top1, top5 = reference_knn_accuracy(
        train, train_labels, test, test_labels, 6, k=9, temperature=0.2, standardize=True
    )
    assert 0.0 < top1 < 1.0 and top5 is not None
    for result in (full, alone):
        assert result.knn_top1 == pytest.approx(top1) and result.knn_top5 == pytest.approx(top5)
        assert result.knn_k == 9
    assert full.linear is not None and alone.linear is None
    row = alone.to_dict()
    assert row["knn_top1"] == pytest.approx(100 * top1)
    assert row["linear_top1"] is None and row["linear_best_top1_optimistic"] is None
    with pytest.raises(FieldValueError, match="train_views"):
        ProbeConfig(linear=False, train_views=2)


def test_raw_features_are_the_flattened_test_transform_input(models):
    model = load_inference_model(models.nw_pretrain)
    split = load_split(models.nw_dataset / "test")
    raw = raw_split_features(split, model.transform, batch_size=5)
    frames = model.transform.num_frames
    assert raw.features.shape == (len(split), 3 * frames * 20 * 1)
    np.testing.assert_array_equal(raw.labels, split.labels)
    with pytest.raises(ValueError, match="need a checkpoint"):
        probe_splits(("encoder",), split, split, None, model.transform, 10, FAST)


def test_linear_probe_trains_epoch_e_on_view_e_mod_k():
    train, labels = _separable(120, 0)
    test, test_labels = _separable(40, 1)
    views = np.stack([train, np.roll(train, 1, axis=0)])  # (K=2, N, D); view 1 shows the wrong class
    one = dataclasses.replace(FAST, epochs=1)
    assert train_linear_probe(views, labels, test, test_labels, 4, one) == train_linear_probe(
        train, labels, test, test_labels, 4, one
    )  # epoch 0 reads view 0
    two = train_linear_probe(views, labels, test, test_labels, 4, FAST)
    assert two != train_linear_probe(views[[0, 0]], labels, test, test_labels, 4, FAST)  # epoch 1: view 1
    assert two == train_linear_probe(views[[0, 1, 0]], labels, test, test_labels, 4, FAST)  # e mod K
    with pytest.raises(FieldValueError, match="train_views"):
        ProbeConfig(train_views=0)


def test_few_label_probe_takes_the_same_rows_of_every_view():
    train, labels = _separable(200, 0)
    test, test_labels = _separable(80, 1)
    names = tuple(f"s{i}" for i in range(200))
    views = np.stack([train, train[::-1].copy()])
    config = dataclasses.replace(FAST, label_fraction=0.1, label_seed=3)
    split, held_out = (
        SplitFeatures(train, labels, names, "train"),
        SplitFeatures(test, test_labels, names, "t"),
    )
    result = probe_features("raw", split, held_out, 4, config, views)
    rows = label_fraction_indices(labels, 0.1, 3)
    subset = SplitFeatures(train[rows], labels[rows], tuple(names[i] for i in rows), "train")
    assert result.to_dict() == probe_features("raw", subset, held_out, 4, FAST, views[:, rows]).to_dict()
    with pytest.raises(ValueError, match="do not match"):
        probe_features("raw", split, held_out, 4, FAST, views[:, :10])


def test_augmented_views_are_seeded_training_transforms(models):
    model = load_inference_model(models.nw_pretrain)
    split = load_split(models.nw_dataset / "test")
    plain = embed_split(model, split).features
    view0, again, view1 = (embed_split(model, split, view=v).features for v in (0, 0, 1))
    np.testing.assert_array_equal(view0, again)
    assert not np.allclose(view0, plain) and not np.allclose(view0, view1)
    raw = raw_split_features(split, model.transform, view=2).features
    assert raw.shape == raw_split_features(split, model.transform).features.shape
    config = dataclasses.replace(FAST, train_views=2)
    (result,) = probe_splits(("raw",), split, split, None, model.transform, 10, config)
    assert result.num_train == len(split)
