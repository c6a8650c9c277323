"""The shared epoch loop on tiny stand-in models: checkpoints, resume equality, NaN handling."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.distributed import DistributedContext, ResumableDistributedSampler
from skeletonmae.run_config import OptimConfig, RunConfig, ScheduleConfig, TrainingConfig
from skeletonmae.training import engine
from skeletonmae.training.engine import Trainer
from skeletonmae.training.loop_types import NonFiniteLossError, StepOutput, TrainData, TrainingSetup
from skeletonmae.training.optim import build_optimizer, build_scheduler


class NoisyDataset(Dataset):
    """(x (C, T, V, M), label, index) whose augmentation noise depends on (epoch, index)."""

    def __init__(self, size: int = 24) -> None:
        self.base = torch.randn(size, 3, 4, 5, 1, generator=torch.Generator().manual_seed(0))
        self.labels = torch.arange(size) % 3
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        noise = torch.randn(
            self.base.shape[1:], generator=torch.Generator().manual_seed(1000 * self.epoch + index)
        )
        return self.base[index] + 0.1 * noise, int(self.labels[index]), index


class TinyMasked(torch.nn.Module):
    """Stand-in for the MAE: masks with the generator, dropout uses the global RNG."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(60, 16), torch.nn.Dropout(0.2), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 60)
        )
        self.poison_at_call: int | None = None
        self.calls = 0

    def forward(self, x, generator=None):
        flat = x.flatten(1)  # (N, 60)
        keep = (torch.rand(flat.shape, generator=generator) > 0.5).float()
        loss = (self.net(flat * keep) - flat).pow(2).mean()
        self.calls += self.training
        if self.training and self.poison_at_call is not None and self.calls >= self.poison_at_call:
            loss = loss * float("nan")
        return StepOutputHolder(loss)


class StepOutputHolder:
    def __init__(self, loss):
        self.loss = loss


class TinyTask:
    name = "pretrain"
    best_metric = "val_loss"
    train_metric = "train_loss"
    higher_is_better = False

    def step(self, model, inputs, labels, generator):
        return StepOutput(loss=model(inputs, generator=generator).loss)

    def validate(self, model, loader, context):
        model.eval()
        with torch.no_grad():
            losses = [model(x, generator=torch.Generator().manual_seed(0)).loss for x, _, _ in loader]
        return {"val_loss": float(torch.stack(losses).mean())}


def make_trainer(run_dir: Path, **settings) -> Trainer:
    torch.manual_seed(0)
    model = TinyMasked()
    dataset = NoisyDataset()
    context = DistributedContext()
    sampler = ResumableDistributedSampler(dataset, context, shuffle=True, seed=3, drop_last=True)
    loader = DataLoader(
        dataset, batch_size=4, sampler=sampler, drop_last=True, generator=torch.Generator().manual_seed(0)
    )
    val_loader = DataLoader(dataset, batch_size=8)
    training = TrainingConfig(**{"epochs": 3, "progress_bar": False, "log_every_steps": 2, **settings})
    optimizer = build_optimizer(model.parameters(), OptimConfig(lr=0.01))
    steps = len(loader) // training.grad_accumulation
    scheduler = build_scheduler(optimizer, ScheduleConfig(milestones=(2,), warmup_epochs=0.5), steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    setup = TrainingSetup(
        task=TinyTask(),
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        train=TrainData(loader, sampler, dataset.set_epoch, micro_batch_size=4),
        val_loader=val_loader,
        config=RunConfig(training=training),
        run_dir=run_dir,
        context=context,
        checkpoint_extra={"class_names": ["a"]},
    )
    return Trainer(setup)


def test_fit_writes_checkpoints_metrics_and_tracks_best(tmp_path: Path):
    result = make_trainer(tmp_path / "run").fit()
    assert [int(r["epoch"]) for r in result.history] == [1, 2, 3]
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert (last["epoch"], last["step_in_epoch"], last["global_step"]) == (3, 0, 18)
    assert last["extra"] == {"class_names": ["a"]}
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    losses = [r["val_loss"] for r in result.history]
    assert best["epoch"] == losses.index(min(losses)) + 1 == result.best_epoch
    assert result.best_metric == pytest.approx(min(losses))
    with (tmp_path / "run" / "metrics.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert {"train_loss", "val_loss", "lr"} <= set(rows[0])
    assert float(rows[2]["lr"]) == pytest.approx(0.001)  # decayed at the epoch-2 milestone


def test_snapshot_epochs_keep_the_state_of_those_epochs(tmp_path: Path):
    make_trainer(tmp_path / "run", snapshot_epochs=(1, 2)).fit()
    assert sorted(p.name for p in (tmp_path / "run").glob("epoch-*.pt")) == ["epoch-0001.pt", "epoch-0002.pt"]
    snapshot = load_checkpoint(tmp_path / "run" / "epoch-0002.pt")
    assert (snapshot["epoch"], snapshot["step_in_epoch"]) == (2, 0)
    # the epoch-2 snapshot is the state a 2-epoch run ends with
    short = make_trainer(tmp_path / "short", epochs=2)
    short.fit()
    for name, value in load_checkpoint(tmp_path / "short" / "last.pt")["model"].items():
        torch.testing.assert_close(snapshot["model"][name], value)
    with pytest.raises(ValueError, match="snapshot_epochs"):
        TrainingConfig(epochs=3, snapshot_epochs=(4,))


class SimulatedKill(Exception):
    pass


@pytest.mark.parametrize("accumulation, kill_at", [(1, 9), (2, 6)])
def test_resume_after_mid_epoch_kill_gives_identical_weights(tmp_path, monkeypatch, accumulation, kill_at):
    reference_run = make_trainer(tmp_path / "a", grad_accumulation=accumulation).fit()
    reference = reference_run.model

    original_step = engine.Trainer.optimizer_step

    def step_then_kill(self, batches, meter):  # the process "dies" right after step kill_at
        original_step(self, batches, meter)
        if self.state.global_step == kill_at:
            raise SimulatedKill

    monkeypatch.setattr(engine.Trainer, "optimizer_step", step_then_kill)
    killed = make_trainer(tmp_path / "b", grad_accumulation=accumulation, checkpoint_every_steps=2)
    with pytest.raises(SimulatedKill):
        killed.fit()
    monkeypatch.undo()
    saved = load_checkpoint(tmp_path / "b" / "last.pt")
    assert saved["step_in_epoch"] > 0  # the checkpoint really is mid-epoch
    torch.manual_seed(12345)  # a fresh process would have different RNG state
    resumed = make_trainer(tmp_path / "b", grad_accumulation=accumulation, checkpoint_every_steps=2)
    resumed.resume(tmp_path / "b" / "last.pt")
    resumed_run = resumed.fit()
    model = resumed_run.model
    for key, value in reference.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    assert resumed_run.history == reference_run.history  # train loss of the resumed epoch too
    with (tmp_path / "b" / "metrics.csv").open() as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["1", "2", "3"]


def test_nonfinite_loss_raises_and_keeps_last_good_checkpoint(tmp_path: Path):
    trainer = make_trainer(tmp_path / "run", checkpoint_every_steps=2, log_every_steps=1)
    trainer.setup.model.poison_at_call = 9  # training step 9 (epoch 2, step 3) goes NaN
    with pytest.raises(NonFiniteLossError, match="NaN or infinite in epoch 2.*last.pt was kept"):
        trainer.fit()
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert (last["epoch"], last["step_in_epoch"]) == (1, 2)
    assert all(torch.isfinite(v).all() for v in last["model"].values() if v.is_floating_point())


def test_resume_refuses_a_checkpoint_of_another_stage(tmp_path: Path):
    trainer = make_trainer(tmp_path / "run", epochs=1)
    trainer.fit()
    other = make_trainer(tmp_path / "run", epochs=1)
    other.setup.task.name = "finetune"
    with pytest.raises(ValueError, match="stage 'pretrain' cannot resume a 'finetune' run"):
        other.resume(tmp_path / "run" / "last.pt")


def test_eval_cadence_and_progress_bar(tmp_path: Path, capsys):
    result = make_trainer(tmp_path / "run", eval_every=2, progress_bar=True, log_every_steps=1).fit()
    assert ["val_loss" in row for row in result.history] == [False, True, True]  # + last epoch
    bar = capsys.readouterr().err
    assert "pretrain 1/3" in bar
    assert all(f"{key}=" in bar for key in ("loss", "lr", "samples_per_s"))


def test_tensorboard_receives_step_and_epoch_scalars(tmp_path: Path, monkeypatch):
    class Recorder:
        def __init__(self):
            self.scalars, self.closed = [], False

        def add_scalar(self, tag, value, step):
            self.scalars.append((tag, step))

        def close(self):
            self.closed = True

    recorder = Recorder()
    monkeypatch.setattr(engine, "open_tensorboard", lambda run_dir: recorder)
    make_trainer(tmp_path / "run", epochs=1, log_every_steps=3).fit()
    assert recorder.closed
    tags = {tag for tag, _ in recorder.scalars}
    assert {"step/loss", "step/lr", "step/samples_per_s", "epoch/train_loss", "epoch/val_loss"} <= tags
    assert sorted(step for tag, step in recorder.scalars if tag == "step/loss") == [3, 6]


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_without_native_bfloat16_is_warned_about(native, monkeypatch, caplog):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    with caplog.at_level("WARNING", logger=engine.__name__):
        engine.warn_slow_cpu_amp("bf16", torch.device("cpu"))
        engine.warn_slow_cpu_amp("none", torch.device("cpu"))
    warned = [r for r in caplog.records if "training.amp=bf16" in r.getMessage()]
    assert len(warned) == (0 if native else 1)
