"""A checkpointed step gives the gradients and the BatchNorm statistics of an ordinary one."""

from __future__ import annotations

import copy

import torch
from model_test_helpers import randomize_parameters, skeleton_batch, tiny_config

from skeletonmae.models.checkpointing import set_activation_checkpointing
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.run_config import MaskConfig


def _twins(model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
    checkpointed = copy.deepcopy(model)
    set_activation_checkpointing(checkpointed, True)
    return model, checkpointed


def _assert_same_step(plain, checkpointed, loss_of) -> None:
    for model in (plain, checkpointed):
        model.train()
        loss_of(model).backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), checkpointed.named_parameters()):
        if a.grad is None or b.grad is None:  # a parameter this input does not reach
            assert a.grad is None and b.grad is None, name
            continue
        assert torch.allclose(a.grad, b.grad, atol=1e-6, rtol=1e-5), name
    for (name, a), (_, b) in zip(plain.named_buffers(), checkpointed.named_buffers()):
        assert torch.equal(a, b), name  # running statistics updated once, as without checkpointing


def test_checkpointed_mae_step_matches_an_ordinary_one():
    config = tiny_config()
    mae = SkeletonMAE(config, MaskConfig(0.5, 0.4, loss_on="masked"))
    randomize_parameters(mae, seed=4)
    plain, checkpointed = _twins(mae)
    x = skeleton_batch(config, n=3)
    _assert_same_step(plain, checkpointed, lambda m: m(x, generator=torch.Generator().manual_seed(2)).loss)
    assert checkpointed.encoder.checkpoint_activations and checkpointed.decoder.checkpoint_activations


def test_checkpointed_classifier_step_matches_an_ordinary_one():
    config = tiny_config()
    classifier = SkeletonClassifier(config)
    randomize_parameters(classifier, seed=5)
    plain, checkpointed = _twins(classifier)
    x, labels = skeleton_batch(config, n=4), torch.arange(4) % config.num_classes
    _assert_same_step(plain, checkpointed, lambda m: torch.nn.functional.cross_entropy(m(x), labels))


def test_checkpointing_is_skipped_without_gradients():
    config = tiny_config()
    classifier = SkeletonClassifier(config)
    set_activation_checkpointing(classifier, True)
    with torch.no_grad():
        assert classifier(skeleton_batch(config, n=2)).shape == (2, config.num_classes)


def test_bf16_autocast_forward_stays_close_to_fp32():
    """``training.amp=bf16`` on CPU. bfloat16 keeps 8 bits of mantissa, so logits of a
    randomly initialised classifier agree with fp32 to a few percent of their spread."""
    torch.manual_seed(0)  # the weights start from torch's initialisation: fix it, as the noise
    config = tiny_config()
    classifier = SkeletonClassifier(config).eval()
    randomize_parameters(classifier, seed=6)
    x = skeleton_batch(config, n=4)
    with torch.no_grad():
        reference = classifier(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = classifier(x).float()
    assert (low - reference).abs().max() <= 0.05 * reference.std() + 1e-3
