"""Classifier: zero-person packing equality, freezing, loading pre-trained encoders, bad input."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import TINY_STAGES, randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.models import (
    MaskConfig,
    load_pretrained_encoder,
    preset,
)
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import SkeletonMAE


def test_classifier_shapes_and_parts():
    config = tiny_config()
    classifier = SkeletonClassifier(config)
    x = skeleton_batch(config)
    assert classifier(x).shape == (3, 4)
    assert classifier.forward_features(x).shape == (3, 12)
    assert set(dict(classifier.named_children())) == {"encoder", "head"}


def test_tuple_pooled_features_keep_time_order_and_average_to_the_mean_pooled_ones():
    config = tiny_config()
    classifier = SkeletonClassifier(config).eval()
    x = skeleton_batch(config, second_person=(True, False, True))
    tuples = config.num_frames // config.tuple_len
    with torch.no_grad():
        per_tuple = classifier.forward_features(x, pool="tuple")  # (N, D * K), tuple-major per channel
        mean = classifier.forward_features(x)
        reversed_time = classifier.forward_features(x.flip(2), pool="tuple")
    assert per_tuple.shape == (3, 12 * tuples)
    torch.testing.assert_close(per_tuple.view(3, 12, tuples).mean(dim=2), mean, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(per_tuple, reversed_time, atol=1e-4)  # order matters, unlike the mean
    with pytest.raises(ValueError, match="pool='joint'"):
        classifier.forward_features(x, pool="joint")


def test_tuple_head_reads_time_ordered_features_and_loads_a_pretrained_encoder():
    config = tiny_config(head_pool="tuple")
    classifier = SkeletonClassifier(config).eval()
    x = skeleton_batch(config, second_person=(True, False, True))
    tuples = config.num_frames // config.tuple_len
    assert config.pooled_dim() == 12 * tuples and classifier.head.fc.in_features == 12 * tuples
    with torch.no_grad():
        features = classifier.forward_features(x)
        torch.testing.assert_close(features, classifier.forward_features(x, pool="tuple"))
        torch.testing.assert_close(classifier(x), classifier.head(features))
    assert features.shape == (3, 12 * tuples) and classifier(x).shape == (3, 4)
    mae = SkeletonMAE(tiny_config(), MaskConfig())  # pre-training has no head: a mean-head MAE fits
    randomize_parameters(mae, seed=2)
    fresh = SkeletonClassifier(config)
    load_pretrained_encoder(fresh, mae.state_dict())
    for name, value in mae.encoder.state_dict().items():
        torch.testing.assert_close(fresh.encoder.state_dict()[name], value)
    with pytest.raises(ValueError, match="head_pool"):
        tiny_config(head_pool="joint")


def test_skipping_padded_persons_equals_computing_every_person_in_eval_mode():
    config = tiny_config()
    classifier = SkeletonClassifier(config).eval()
    randomize_parameters(classifier, seed=1)
    x = skeleton_batch(config, n=5, second_person=(True, False, False, True, False))
    x[4] = 0  # a sample with no person at all falls back to its first (zero) person
    with torch.no_grad():
        packed = classifier(x)
        classifier.skip_absent_persons = False
        every = classifier(x)
        # independent reference: run all N*M rows, pool the present persons by hand
        rows = x.permute(0, 4, 1, 2, 3).reshape(10, 3, 12, 5)
        pooled = classifier.encoder(rows).mean(dim=(2, 3)).view(5, 2, -1)
        reference = torch.stack(
            [pooled[0].mean(0), pooled[1, 0], pooled[2, 0], pooled[3].mean(0), pooled[4, 0]]
        )
        reference = classifier.head(reference)
    assert torch.allclose(packed, every, atol=1e-5)
    assert torch.allclose(packed, reference, atol=1e-5)


def test_freeze_encoder_for_linear_evaluation():
    config = tiny_config()
    classifier = SkeletonClassifier(config)
    classifier.freeze_encoder()
    classifier.train()
    assert not classifier.encoder.training and classifier.head.training
    assert not any(p.requires_grad for p in classifier.encoder.parameters())
    before = {k: v.clone() for k, v in classifier.encoder.state_dict().items()}
    classifier(skeleton_batch(config)).sum().backward()
    after = classifier.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics unchanged
    assert classifier.head.fc.weight.grad is not None


def test_feature_norm_head_is_a_non_affine_batchnorm_added_only_for_linear_evaluation():
    config = tiny_config()
    plain = SkeletonClassifier(config)
    assert not any(key.startswith("head.norm") for key in plain.state_dict())  # finetune: as before
    assert set(k for k in plain.state_dict() if k.startswith("head.")) == {"head.fc.weight", "head.fc.bias"}
    classifier = SkeletonClassifier(config)
    classifier.freeze_encoder(feature_norm=True)
    norm = classifier.head.norm
    assert isinstance(norm, torch.nn.BatchNorm1d) and not norm.affine
    assert [name for name, _ in classifier.head.named_parameters()] == ["fc.weight", "fc.bias"]
    assert {"head.norm.running_mean", "head.norm.running_var"} <= set(classifier.state_dict())
    classifier.train()
    assert norm.training and not classifier.encoder.training
    classifier(skeleton_batch(config)).sum().backward()
    assert norm.num_batches_tracked == 1 and classifier.head.fc.weight.grad is not None


def pretrained_mae(config):
    mae = SkeletonMAE(config, MaskConfig())
    randomize_parameters(mae, seed=9)
    return mae


def test_load_mae_weights_copies_the_encoder_and_reports_keys():
    config = tiny_config()
    mae, classifier = pretrained_mae(config), SkeletonClassifier(config)
    report = load_pretrained_encoder(classifier, mae.state_dict())
    for key, value in mae.encoder.state_dict().items():
        assert torch.equal(classifier.encoder.state_dict()[key], value)
    assert set(report.missing) == {"head.fc.weight", "head.fc.bias"}
    assert report.ignored and all(k.startswith("decoder.") for k in report.ignored)
    assert len(report.loaded) == len(mae.encoder.state_dict())


def test_load_encoder_only_and_data_parallel_state_dicts():
    config = tiny_config()
    mae = pretrained_mae(config)
    for weights in (mae.encoder.state_dict(), {f"module.{k}": v for k, v in mae.state_dict().items()}):
        classifier = SkeletonClassifier(config)
        report = load_pretrained_encoder(classifier, weights)
        assert torch.equal(classifier.encoder.frame_embedding, mae.encoder.frame_embedding)
        assert len(report.loaded) == len(mae.encoder.state_dict())


def test_load_rejects_wrong_key_sets_without_touching_the_classifier():
    config = tiny_config()
    mae, classifier = pretrained_mae(config), SkeletonClassifier(config)
    untouched = {k: v.clone() for k, v in classifier.state_dict().items()}
    weights = mae.state_dict()
    without_block = {k: v for k, v in weights.items() if not k.startswith("encoder.blocks.1.")}
    with pytest.raises(ValueError, match="encoder.blocks.1"):
        load_pretrained_encoder(classifier, without_block)
    with pytest.raises(ValueError, match="unexpected keys.*projector"):
        load_pretrained_encoder(classifier, {**weights, "projector.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="head"):
        load_pretrained_encoder(classifier, SkeletonClassifier(config).state_dict())
    assert all(torch.equal(untouched[k], v) for k, v in classifier.state_dict().items())


def test_load_rejects_a_different_grid_with_the_setting_named():
    mae = pretrained_mae(tiny_config(num_frames=24))
    with pytest.raises(ValueError, match="frame_embedding.*num_frames"):
        load_pretrained_encoder(SkeletonClassifier(tiny_config()), mae.state_dict())


@pytest.mark.parametrize("name", ["ntu60", "ntu120", "nw-ucla", "cpu-small"])
def test_every_preset_classifies_forward_and_backward(name):
    overrides = {} if name == "cpu-small" else dict(stages=TINY_STAGES)
    config = preset(name, **overrides)
    classifier = SkeletonClassifier(config)
    x = skeleton_batch(config, n=2)
    logits = classifier(x)
    assert logits.shape == (2, config.num_classes)
    logits.logsumexp(1).sum().backward()
    assert all(p.grad is not None for p in classifier.parameters())


@pytest.mark.parametrize(
    "shape,needle",
    [
        ((2, 3, 12, 5), "5-D"),
        ((2, 3, 12, 6, 2), "num_joints=5"),
        ((2, 3, 10, 5, 2), "num_frames=12"),
        ((2, 2, 12, 5, 2), "in_channels=3"),
        ((2, 3, 12, 5, 1), "num_persons=2"),
    ],
)
def test_bad_input_names_the_setting(shape, needle):
    classifier = SkeletonClassifier(tiny_config())
    with pytest.raises(ValueError, match=needle):
        classifier(torch.randn(shape))
