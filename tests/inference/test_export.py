"""Export: the traceable person weighting equals the packing path; ONNX parity on real inputs
(where the optional packages are installed)."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest
import torch
from inference_fixtures import TrainedModels, single_torch_thread, trained_models  # noqa: F401

import skeletonmae
from skeletonmae.inference.export import (
    ExportableClassifier,
    check_parity,
    export_onnx,
    present_person_weights,
    run_exported,
)
from skeletonmae.inference.preprocess import apply_test_transform
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.persons import present_persons

ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")
MISSING_ONNX = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
needs_onnx = pytest.mark.skipif(
    bool(MISSING_ONNX),
    reason=f"optional ONNX packages not installed: {', '.join(MISSING_ONNX)} (pip install -e .[onnx])",
)


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


@pytest.fixture(scope="module")
def ntu_real_batch(models, skeleton_files):
    """The four real NTU files, preprocessed and test-transformed: ``(4, 3, 12, 25, 2)``, plus a
    copy of the first with a second person and an all-zero sample (no person at all)."""
    predictor = skeletonmae.load(models.ntu_finetune)
    files = sorted(skeleton_files.ntu.glob("*.skeleton"))
    _, arrays, failures = predictor.prepare(files)
    assert not failures
    x = apply_test_transform(arrays, predictor.model.transform, predictor.model.layout)
    assert (x[..., 1] == 0).all()  # one body each: the second person slot is absent
    two_people = x[:1].clone()
    two_people[..., 1] = x[1:2, ..., 0] + 0.5
    return predictor, torch.cat([x, two_people, torch.zeros_like(x[:1])])


def test_present_person_weights_match_the_packing_rule():
    x = torch.zeros(4, 3, 6, 5, 3)
    x[0, :, :, :, 0] = 1.0
    x[1, 0, 2, 1, 2] = -0.5
    x[3] = 0.25
    expected = present_persons(x).float()  # sample 2 has nobody: its first slot counts
    np.testing.assert_array_equal(present_person_weights(x).numpy(), expected.numpy())


def test_exportable_classifier_equals_the_packing_classifier(ntu_real_batch):
    predictor, x = ntu_real_batch
    classifier = predictor.model.classifier.eval()
    with torch.no_grad():
        packed = classifier(x)
        exportable = ExportableClassifier(classifier).eval()(x)
    torch.testing.assert_close(exportable, packed, rtol=1e-5, atol=1e-5)


def test_exportable_tuple_head_equals_the_packing_classifier(ntu_real_batch):
    predictor, x = ntu_real_batch
    config = dataclasses.replace(predictor.model.model_config, head_pool="tuple")
    classifier = SkeletonClassifier(config).eval()
    classifier.encoder.load_state_dict(predictor.model.classifier.encoder.state_dict())
    with torch.no_grad():
        packed = classifier(x)
        exportable = ExportableClassifier(classifier).eval()(x)
    torch.testing.assert_close(exportable, packed, rtol=1e-5, atol=1e-5)


@needs_onnx
def test_onnx_runtime_parity_on_real_inputs_and_any_batch_size(ntu_real_batch, tmp_path):
    predictor, x = ntu_real_batch
    path = export_onnx(predictor.model.classifier, tmp_path / "model.onnx", x[:2])
    parity = check_parity(predictor.model.classifier, path, x)
    assert parity.num_samples == 6 and parity.ok and parity.max_abs_diff < 1e-3, parity
    # the test's own comparison, not the library's verdict: ONNX Runtime's logits against PyTorch's
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        torch_logits = predictor.model.classifier.eval()(x)
    np.testing.assert_allclose(onnx_logits, torch_logits.numpy(), rtol=1e-4, atol=1e-4)
    single = run_exported(path, x[4:5].numpy())  # dynamic batch axis
    assert single.shape == (1, predictor.model.model_config.num_classes)


@needs_onnx
def test_parity_check_detects_a_different_model(ntu_real_batch, tmp_path):
    predictor, x = ntu_real_batch
    path = export_onnx(predictor.model.classifier, tmp_path / "model.onnx", x[:2])
    other = skeletonmae.load(predictor.model.path).model.classifier
    with torch.no_grad():
        other.head.fc.bias.add_(1.0)
    assert not check_parity(other, path, x).ok
