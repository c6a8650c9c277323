"""Optimiser choice and the per-step MultiStep / cosine + warm-up schedules."""

from __future__ import annotations

import pytest
import torch

from skeletonmae.config import ConfigError, from_mapping
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.run_config import OptimConfig, ScheduleConfig, TrainingConfig, preset
from skeletonmae.training.optim import build_optimizer, build_scheduler, layer_decay_groups


def _lrs(
    config: ScheduleConfig, steps_per_epoch: int, steps: int, total_epochs: int | None = None
) -> list[float]:
    optimizer = build_optimizer(torch.nn.Linear(2, 2).parameters(), OptimConfig(lr=1.0))
    scheduler = build_scheduler(optimizer, config, steps_per_epoch, total_epochs)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_paper_defaults():
    optim, schedule, training = OptimConfig(), ScheduleConfig(), TrainingConfig()
    assert (optim.name, optim.lr, optim.weight_decay) == ("adam", 0.005, 1e-4)
    assert (schedule.name, schedule.milestones, schedule.gamma) == ("multistep", (60, 90, 110), 0.1)
    assert (training.epochs, training.label_smoothing) == (200, 0.1)
    adam = build_optimizer(torch.nn.Linear(2, 2).parameters(), optim)
    assert isinstance(adam, torch.optim.Adam)
    assert adam.param_groups[0]["weight_decay"] == 1e-4


def test_multistep_decays_at_epoch_milestones():
    lrs = _lrs(ScheduleConfig(milestones=(2, 3), gamma=0.1), steps_per_epoch=2, steps=8)
    assert lrs == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])


def test_warmup_ramps_linearly_then_holds():
    lrs = _lrs(
        ScheduleConfig(milestones=(10,), warmup_epochs=1, warmup_start_factor=0.2), steps_per_epoch=4, steps=6
    )
    assert lrs == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])


def test_cosine_warms_up_then_decays_to_the_floor_at_the_end_of_the_run():
    config = ScheduleConfig(
        name="cosine", warmup_epochs=1, warmup_start_factor=0.1, min_lr_factor=0.01, milestones=(1,)
    )  # milestones ignored
    lrs = _lrs(config, steps_per_epoch=4, steps=14, total_epochs=3)
    assert lrs[0] == pytest.approx(0.1)  # step 0: warmup_start_factor * lr
    assert lrs[2] == pytest.approx(0.55)  # half-way through the warm-up
    assert lrs[4] == pytest.approx(1.0)  # warm-up end: the full lr
    assert lrs[8] == pytest.approx(0.01 + 0.99 * 0.5)  # half-way through the decay
    assert lrs[12] == pytest.approx(0.01) and lrs[13] == pytest.approx(0.01)  # end of run, held
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_cosine_without_warmup_starts_at_lr_and_needs_the_run_length():
    lrs = _lrs(ScheduleConfig(name="cosine"), steps_per_epoch=2, steps=5, total_epochs=2)
    assert lrs == pytest.approx([1.0, 0.5 * (1 + 2**-0.5), 0.5, 0.5 * (1 - 2**-0.5), 0.0])
    optimizer = build_optimizer(torch.nn.Linear(2, 2).parameters(), OptimConfig(lr=1.0))
    with pytest.raises(ValueError, match="total_epochs"):
        build_scheduler(optimizer, ScheduleConfig(name="cosine"), 2)
    with pytest.raises(ValueError, match="warmup_epochs"):
        build_scheduler(optimizer, ScheduleConfig(name="cosine", warmup_epochs=2), 2, 2)


def test_default_schedule_ignores_the_run_length():
    config = ScheduleConfig(milestones=(2, 3), gamma=0.1)
    assert _lrs(config, 2, 8, total_epochs=4) == _lrs(config, 2, 8)


def test_scheduler_state_resumes_mid_run():
    config = ScheduleConfig(milestones=(1, 2), warmup_epochs=0.5)
    reference = _lrs(config, steps_per_epoch=4, steps=10)
    optimizer = build_optimizer(torch.nn.Linear(2, 2).parameters(), OptimConfig(lr=1.0))
    scheduler = build_scheduler(optimizer, config, 4)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    optimizer2 = build_optimizer(torch.nn.Linear(2, 2).parameters(), OptimConfig(lr=1.0))
    scheduler2 = build_scheduler(optimizer2, config, 4)
    optimizer2.load_state_dict(optimizer.state_dict())
    scheduler2.load_state_dict(state)
    resumed = []
    for _ in range(5):
        resumed.append(optimizer2.param_groups[0]["lr"])
        optimizer2.step()
        scheduler2.step()
    assert resumed == pytest.approx(reference[5:])


def test_frozen_parameters_are_left_out_and_all_frozen_is_an_error():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model[0].requires_grad_(False)
    optimizer = build_optimizer(model.parameters(), OptimConfig(name="sgd"))
    assert len(optimizer.param_groups[0]["params"]) == 2
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        build_optimizer(model.parameters(), OptimConfig())


@pytest.mark.parametrize(
    "cls, data, dotted",
    [
        (OptimConfig, {"lr": 0}, "optim.lr"),
        (OptimConfig, {"betas": [0.9, 1.5]}, "optim.betas"),
        (ScheduleConfig, {"milestones": [90, 60]}, "optim.milestones"),
        (ScheduleConfig, {"gamma": 2.0}, "optim.gamma"),
        (ScheduleConfig, {"name": "linear"}, "optim.name"),
        (ScheduleConfig, {"min_lr_factor": 1.5}, "optim.min_lr_factor"),
        (TrainingConfig, {"epochs": 0}, "optim.epochs"),
        (TrainingConfig, {"amp": "fp8"}, "optim.amp"),
        (TrainingConfig, {"grad_accumulation": 0}, "optim.grad_accumulation"),
        (TrainingConfig, {"label_smoothing": 1.0}, "optim.label_smoothing"),
    ],
)
def test_invalid_values_are_rejected_with_the_key(cls, data, dotted):
    with pytest.raises(ConfigError, match=rf"^{dotted}: "):
        from_mapping(cls, data, key="optim")


def test_layer_decay_groups_scale_each_block_below_the_head():
    classifier = SkeletonClassifier(preset("cpu-small"))
    blocks = len(classifier.encoder.blocks)
    groups = layer_decay_groups(classifier.named_parameters(), blocks, 0.5)
    assert len(groups) == blocks + 2
    assert [g["lr_scale"] for g in groups] == [0.5 ** (blocks + 1 - k) for k in range(blocks + 2)]
    assert sum(len(g["params"]) for g in groups) == len(list(classifier.parameters()))
    head = {id(p) for p in classifier.head.parameters()}
    assert {id(p) for p in groups[-1]["params"]} == head
    first_block = {id(p) for p in classifier.encoder.blocks[0].parameters()}
    assert {id(p) for p in groups[1]["params"]} == first_block
    optimizer = build_optimizer(groups, OptimConfig(name="adamw", lr=0.01))
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.01 * g["lr_scale"] for g in groups])


def test_a_held_group_learns_nothing_then_ramps_up_and_its_state_loads_weights_only(tmp_path):
    held, free = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    groups = [{"params": list(held.parameters()), "hold_epochs": 2}, {"params": list(free.parameters())}]
    optimizer = build_optimizer(groups, OptimConfig(lr=1.0))
    config = ScheduleConfig(name="cosine", warmup_epochs=1)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch=2, total_epochs=5)
    rates = []
    for _ in range(10):
        rates.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    reference = _lrs(config, 2, 10, total_epochs=5)
    assert [free_lr for _, free_lr in rates] == pytest.approx(reference)  # the free group: unchanged
    held_rates = [held_lr for held_lr, _ in rates]
    assert held_rates[:4] == [0.0] * 4  # two epochs of two steps
    assert held_rates[4:6] == pytest.approx([0.5 * reference[4], reference[5]])  # one-epoch ramp
    assert held_rates[6:] == pytest.approx(reference[6:])
    torch.save(scheduler.state_dict(), tmp_path / "scheduler.pt")
    state = torch.load(tmp_path / "scheduler.pt", weights_only=True)
    assert [fn["hold_steps"] for fn in state["lr_lambdas"]] == [4, 0]
