"""Predict and embed real NTU and NW-UCLA files with checkpoints trained for a few steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: F401

import skeletonmae
from skeletonmae.data.classes import NTU60_CLASS_NAMES, NW_UCLA_CLASS_NAMES
from skeletonmae.data.dataset import SkeletonDataset
from skeletonmae.data.store import load_split
from skeletonmae.inference.predictor import InputsFailedError


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def _nw_test_files(skeleton_files, count: int) -> list[Path]:
    return sorted(skeleton_files.nw_ucla.glob("a*_v03.json"))[:count]


def test_predict_nw_ucla_files_top_k_sorted_probabilities_and_names(models, skeleton_files):
    predictor = skeletonmae.load(models.nw_finetune)
    assert predictor.class_names == NW_UCLA_CLASS_NAMES
    files = _nw_test_files(skeleton_files, 3)
    predictions = predictor.predict(files, top_k=10)
    assert [p.name for p in predictions] == [f.stem for f in files]
    for prediction in predictions:
        probabilities = [score.probability for score in prediction.top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)  # all 10 classes listed
        assert sorted(score.index for score in prediction.top) == list(range(10))
        assert all(score.name == NW_UCLA_CLASS_NAMES[score.index] for score in prediction.top)
        assert prediction.label == prediction.top[0].name
    top3 = predictor.predict(files, top_k=3)
    assert [p.top for p in top3] == [p.top[:3] for p in predictions]


def test_predict_real_ntu_skeleton_files_with_an_ntu_checkpoint(models, skeleton_files):
    predictor = skeletonmae.load(models.ntu_finetune)
    files = sorted(skeleton_files.ntu.glob("*.skeleton"))
    predictions = predictor.predict(files, top_k=5)
    assert [p.name for p in predictions] == [f.stem for f in files]
    for prediction in predictions:
        assert len(prediction.top) == 5
        assert all(score.name == NTU60_CLASS_NAMES[score.index] for score in prediction.top)
        probabilities = [score.probability for score in prediction.top]
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0


def test_prediction_equals_the_evaluation_path_on_the_prepared_split(models, skeleton_files):
    """A file predicted directly gives the logits training's evaluation gives its prepared copy."""
    predictor = skeletonmae.load(models.nw_finetune)
    split = load_split(models.nw_dataset / "test")
    names = list(split.names[:4])
    files = [skeleton_files.nw_ucla / f"{name}.json" for name in names]
    _, arrays, failures = predictor.prepare(files)
    assert not failures
    probabilities = predictor.probabilities(arrays)  # (4, K)
    dataset = SkeletonDataset(split, predictor.model.transform, train=False)
    x, _, _ = dataset.get_batch(np.arange(4))
    with torch.no_grad():
        expected = torch.softmax(predictor.model.classifier(x), dim=1).numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)


def test_embed_shapes_determinism_and_batch_independence(models, skeleton_files):
    predictor = skeletonmae.load(models.nw_finetune, batch_size=2)
    files = _nw_test_files(skeleton_files, 5)
    features = predictor.embed(files)
    assert features.shape == (5, predictor.feature_dim) and features.dtype == np.float32
    np.testing.assert_array_equal(features, predictor.embed(files))
    alone = skeletonmae.load(models.nw_finetune, batch_size=16).embed(files[3])
    np.testing.assert_allclose(alone[0], features[3], rtol=1e-5, atol=1e-6)


def test_pretraining_checkpoint_embeds_but_does_not_predict(models, skeleton_files):
    predictor = skeletonmae.load(models.nw_pretrain)
    assert predictor.model.stage == "pretrain" and not predictor.model.has_head
    features = predictor.embed(_nw_test_files(skeleton_files, 2))
    assert features.shape == (2, predictor.feature_dim) and np.isfinite(features).all()
    with pytest.raises(ValueError, match="no trained classifier head"):
        predictor.predict(_nw_test_files(skeleton_files, 1))


def test_numpy_arrays_are_accepted(models, skeleton_files):
    predictor = skeletonmae.load(models.nw_finetune)
    file = _nw_test_files(skeleton_files, 1)[0]
    _, arrays, _ = predictor.prepare([file])
    from_file = predictor.predict(file, top_k=2)[0]
    from_array = predictor.predict(arrays[0], top_k=2)[0]
    assert _same_scores(from_array, from_file) and from_array.source == "<array>"
    padded = np.zeros((2, *arrays[0].shape[:1], arrays[0].shape[1] + 5, *arrays[0].shape[2:]), np.float32)
    padded[0, :, : arrays[0].shape[1]] = arrays[0]  # trailing zero frames are padding
    padded[1, :, : arrays[0].shape[1]] = arrays[0]
    batch = predictor.predict(padded, top_k=2)
    assert len(batch) == 2 and all(_same_scores(p, from_file) for p in batch)


def _same_scores(first, second) -> bool:
    """Same classes in the same order, probabilities equal up to float32 batch rounding."""
    return [s.index for s in first.top] == [s.index for s in second.top] and np.allclose(
        [s.probability for s in first.top], [s.probability for s in second.top], rtol=1e-5, atol=1e-7
    )


def test_failures_are_collected_and_the_rest_still_predicted(models, skeleton_files, tmp_path):
    predictor = skeletonmae.load(models.nw_finetune)
    good = _nw_test_files(skeleton_files, 2)
    broken = tmp_path / "a01_s01_e00_v03.json"
    broken.write_text("{not json", encoding="utf-8")
    report = predictor.predict_report([good[0], broken, tmp_path / "missing.json", good[1]])
    assert [p.name for p in report.predictions] == [good[0].stem, good[1].stem]
    assert len(report.failures) == 2
    assert "invalid JSON" in report.failures[0].error and str(broken) in report.failures[0].error
    assert "no such file" in report.failures[1].error
    with pytest.raises(InputsFailedError, match="2 input"):
        predictor.predict([good[0], broken, tmp_path / "missing.json"])
