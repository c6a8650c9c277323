"""Features of whole prepared splits, k-NN on them, and the feature files embed writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: F401

import skeletonmae
from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.data.store import load_split
from skeletonmae.inference.checkpoint_model import load_inference_model
from skeletonmae.inference.features import (
    embed_split,
    open_split_folder,
    read_features,
    write_features,
)


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def test_split_features_match_file_features_and_are_deterministic(models, skeleton_files):
    model = load_inference_model(models.nw_pretrain)  # a pre-training checkpoint embeds too
    split = load_split(models.nw_dataset / "test")
    first = embed_split(model, split, batch_size=5)
    assert first.features.shape == (len(split), model.model_config.feature_dim)
    assert first.names == split.names and first.split == "test"
    np.testing.assert_array_equal(first.labels, split.labels)
    np.testing.assert_allclose(
        embed_split(model, split, batch_size=64).features, first.features, rtol=1e-5, atol=1e-6
    )
    files = [skeleton_files.nw_ucla / f"{name}.json" for name in split.names[:3]]
    from_files = skeletonmae.load(models.nw_pretrain).embed(files)
    np.testing.assert_allclose(from_files, first.features[:3], rtol=1e-5, atol=1e-6)


def test_contrastive_pretraining_checkpoint_embeds_with_its_exported_encoder(models):
    model = load_inference_model(models.nw_contrastive)
    assert model.stage == "pretrain" and not model.has_head
    payload = load_checkpoint(models.nw_contrastive)
    view = payload["config"]["contrastive"]["export_view"]
    query_weight = payload["model"][f"query.{view}.encoder.input_embedding.0.weight"]
    torch.testing.assert_close(model.classifier.encoder.input_embedding[0].weight, query_weight)
    features = embed_split(model, load_split(models.nw_dataset / "test")).features
    assert features.shape[1] == model.model_config.feature_dim and np.isfinite(features).all()


def test_split_that_does_not_fit_the_checkpoint_is_refused(models):
    model = load_inference_model(models.nw_finetune)
    with pytest.raises(ValueError, match="25 joints and 2 person"):
        embed_split(model, load_split(models.ntu_dataset / "train"))


def test_open_split_folder_errors_name_the_folder(models, tmp_path):
    with pytest.raises(FileNotFoundError, match="available: \\['test', 'train'\\]"):
        open_split_folder(models.nw_dataset, "val")
    with pytest.raises(FileNotFoundError, match="--split"):
        open_split_folder(models.nw_dataset, None)


def test_feature_files_round_trip_and_bad_names(tmp_path):
    features = np.arange(12, dtype=np.float32).reshape(3, 4)
    npy, sidecar = write_features(tmp_path / "f.npy", features, {"labels": [0, 1, 1]})
    assert sidecar.name == "f.json"
    loaded, info = read_features(npy)
    np.testing.assert_array_equal(loaded, features)
    assert info["labels"] == [0, 1, 1] and info["num_samples"] == 3 and info["feature_dim"] == 4
    with pytest.raises(ValueError, match="FEATURES.npy"):
        write_features(tmp_path / "f.txt", features, {})
    sidecar.unlink()
    with pytest.raises(FileNotFoundError, match="f.json"):
        read_features(npy)
