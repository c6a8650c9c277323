"""ContrastiveModel on the tiny STTFormer: momentum encoders, queues, mining switch, export to the
classifier."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from skeletonmae.contrastive import AugmentationConfig, ContrastiveConfig
from skeletonmae.contrastive.build import (
    build_contrastive_model,
    export_encoder_state,
    pretrained_encoder_state,
)
from skeletonmae.data.layouts import get_layout
from skeletonmae.distributed import DistributedContext
from skeletonmae.models import load_pretrained_encoder, preset
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.training.tasks import ContrastivePretrainTask

MODEL_CONFIG = preset("cpu-small", num_frames=12, num_persons=2)
LAYOUT = get_layout("nw_ucla20")


def tiny_batch(n: int = 4, seed: int = 0) -> torch.Tensor:
    x = torch.randn(n, 3, 12, 20, 2, generator=torch.Generator().manual_seed(seed))
    x[1:, :, :, :, 1] = 0.0  # only sample 0 has a second person
    return x


def contrastive_step(model, x: torch.Tensor, generator: torch.Generator, epoch: int) -> torch.Tensor:
    """The loss of one batch at ``epoch`` (0-based), as the pre-training stage steps it."""
    model.set_epoch(epoch)
    return model(x, generator).loss


def contrastive_validation_loss(model, loader, context) -> float:
    return ContrastivePretrainTask().validate(model, loader, context)["val_loss"]


def make_model(method: str, **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    config = ContrastiveConfig(method=method, queue_size=16, mining_start_epoch=2, **overrides)
    return build_contrastive_model(MODEL_CONFIG, config, LAYOUT, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("method", ["aimclr", "crossclr"])
def test_key_branches_follow_the_query_with_momentum(method: str) -> None:
    model = make_model(method)
    views = list(model.query)
    assert views == (["joint"] if method == "aimclr" else ["joint", "motion", "bone"])
    for view in views:
        for q, k in zip(model.query[view].parameters(), model.key[view].parameters()):
            assert torch.equal(q, k) and not k.requires_grad
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)  # as the stage
    contrastive_step(model, tiny_batch(), torch.Generator().manual_seed(1), epoch=0).backward()
    optimizer.step()  # the query moves; the key only moved by the (zero) momentum step so far
    query_now = [p.detach().clone() for p in model.query[views[0]].parameters()]
    key_before = [p.clone() for p in model.key[views[0]].parameters()]
    contrastive_step(model, tiny_batch(), torch.Generator().manual_seed(2), epoch=0)
    for key, old, query in zip(model.key[views[0]].parameters(), key_before, query_now):
        assert torch.allclose(key, 0.999 * old + 0.001 * query, atol=1e-7)
    moved = sum(not torch.equal(k, q) for k, q in zip(key_before, query_now))
    assert moved > 0, "the optimiser step should have separated query and key"


@pytest.mark.parametrize("method", ["aimclr", "crossclr"])
def test_each_step_enqueues_the_batch_keys_in_every_view_queue(method: str) -> None:
    model = make_model(method)
    before = {view: queue.keys.clone() for view, queue in model.queues.items()}
    contrastive_step(model, tiny_batch(), torch.Generator().manual_seed(1), epoch=0)
    for view, queue in model.queues.items():
        assert int(queue.pointer) == 4
        assert not torch.equal(queue.keys[:4], before[view][:4]) and torch.equal(
            queue.keys[4:], before[view][4:]
        )
        assert torch.allclose(queue.keys[:4].norm(dim=1), torch.ones(4), atol=1e-5)


@pytest.mark.parametrize("method", ["aimclr", "crossclr"])
def test_loss_is_seedable_and_mining_switches_on_at_its_epoch(method: str) -> None:
    model = make_model(method)
    for step in range(4):  # fill the queue with real keys
        contrastive_step(model, tiny_batch(seed=step), torch.Generator().manual_seed(step), epoch=0)
    twins = [copy.deepcopy(model) for _ in range(3)]
    before = contrastive_step(twins[0], tiny_batch(), torch.Generator().manual_seed(9), epoch=1)
    again = contrastive_step(twins[1], tiny_batch(), torch.Generator().manual_seed(9), epoch=1)
    mined = contrastive_step(twins[2], tiny_batch(), torch.Generator().manual_seed(9), epoch=2)
    assert torch.equal(before, again), "same model state and seed must give the same loss"
    assert not torch.allclose(before, mined), "the mining epoch must change the loss"
    assert torch.isfinite(mined) and mined.requires_grad


def test_loss_terms_are_reported_per_method() -> None:
    aimclr, crossclr = make_model("aimclr"), make_model("crossclr")
    out = aimclr(tiny_batch(), torch.Generator().manual_seed(0))
    assert set(out.terms) == {"nce", "d3m"}
    assert torch.allclose(out.loss.detach(), out.terms["nce"] + out.terms["d3m"])
    out = crossclr(tiny_batch(), torch.Generator().manual_seed(0))
    assert set(out.terms) == {"nce_joint", "nce_motion", "nce_bone"}


@pytest.mark.parametrize("method, export_view", [("aimclr", "joint"), ("crossclr", "motion")])
def test_exported_encoder_loads_into_the_classifier_through_the_shared_path(
    method: str, export_view: str
) -> None:
    model = make_model(method, export_view=export_view)
    contrastive_step(model, tiny_batch(), torch.Generator().manual_seed(0), epoch=0).backward()
    classifier = SkeletonClassifier(MODEL_CONFIG)
    report = load_pretrained_encoder(classifier, export_encoder_state(model))
    assert report.loaded and all(k.startswith("head.") for k in report.missing)
    for name, value in model.query[export_view].encoder.state_dict().items():
        assert torch.equal(classifier.encoder.state_dict()[name], value), name


def test_layout_must_match_the_model() -> None:
    with pytest.raises(ValueError, match="num_joints=20"):
        build_contrastive_model(MODEL_CONFIG, ContrastiveConfig(), get_layout("coco17"))


@pytest.mark.parametrize("method", ["aimclr", "crossclr"])
def test_validation_loss_leaves_keys_and_queues_alone_and_is_repeatable(method: str) -> None:
    model = make_model(method)
    contrastive_step(model, tiny_batch(), torch.Generator().manual_seed(0), epoch=0)
    state = copy.deepcopy(model.state_dict())
    loader = [(tiny_batch(seed=s), torch.zeros(4, dtype=torch.long), torch.arange(4)) for s in range(2)]
    context = DistributedContext()
    first = contrastive_validation_loss(model, loader, context)
    second = contrastive_validation_loss(model, loader, context)
    assert first == second and math.isfinite(first)
    assert model.training, "validation must restore train mode"
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), f"validation changed {key}"
    for queue in model.queues.values():  # the queue's contents must not matter
        queue.keys.copy_(torch.nn.functional.normalize(torch.randn_like(queue.keys), dim=1))
    assert contrastive_validation_loss(model, loader, context) == first


def test_in_batch_validation_loss_is_infonce_over_the_batch() -> None:
    no_augmentation = AugmentationConfig(shear_amplitude=0.0, temporal_padding_ratio=0)
    model = make_model("crossclr", augmentation=no_augmentation).eval()
    identical = tiny_batch()[:1].expand(4, -1, -1, -1, -1).contiguous()
    # every query matches every key equally: each of the 3 views contributes log(4)
    loss = model.validation_loss(identical, torch.Generator().manual_seed(3)).detach()
    assert torch.allclose(loss, torch.tensor(3 * math.log(4)), atol=1e-4)
    distinct = model.validation_loss(tiny_batch(), torch.Generator().manual_seed(3)).detach()
    assert distinct < loss, "distinct samples should be told apart better than identical ones"


def test_pretrained_encoder_state_picks_the_export_view_from_a_checkpoint() -> None:
    model = make_model("crossclr", export_view="bone")
    payload = {
        "model": {f"module.{k}": v for k, v in model.state_dict().items()},
        "config": {"contrastive": {"method": "crossclr", "export_view": "bone"}},
    }
    state = pretrained_encoder_state(payload)
    expected = model.query["bone"].encoder.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    load_pretrained_encoder(SkeletonClassifier(MODEL_CONFIG), state)
    mae_like = {"model": {"encoder.x": torch.zeros(1)}, "config": {}}
    assert pretrained_encoder_state(mae_like) is mae_like["model"]
    payload["config"] = {"contrastive": {"export_view": "velocity"}}
    with pytest.raises(ValueError, match="export_view"):
        pretrained_encoder_state(payload)


def test_validation_reaches_the_model_through_wrappers() -> None:
    model = make_model("aimclr")

    class CompiledLike(torch.nn.Module):  # what torch.compile's OptimizedModule exposes
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self._orig_mod = inner

    loader = [(tiny_batch(), torch.zeros(4, dtype=torch.long), torch.arange(4))]
    context = DistributedContext()
    assert contrastive_validation_loss(CompiledLike(model), loader, context) == contrastive_validation_loss(
        model, loader, context
    )
    with pytest.raises(TypeError, match="ContrastiveModel"):
        contrastive_validation_loss(torch.nn.Linear(2, 2), loader, context)
