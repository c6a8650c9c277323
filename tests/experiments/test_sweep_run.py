"""Sweeps that train: a 2 x 2 grid on tiny data, skipping, resuming, chained pre-training, shards, report.

The tiny dataset claims the NTU-60 X-Sub benchmark so that the paper's numbers (and their
difference to ours) appear in the tables; its content is 24 random smooth sequences.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kill_helpers import KILL_AFTER_STEP_ENV, KILL_PRELUDE, run_all_or_kill
from sweep_test_data import FRAMES, _samples

from skeletonmae.data.store import write_dataset
from skeletonmae.experiments.report import build_report
from skeletonmae.experiments.runner import SweepConfigMismatch, run_sweep
from skeletonmae.experiments.spec import load_sweep_spec
from skeletonmae.experiments.sweep_dir import read_record, record_path

TINY_SPEC = Path(__file__).resolve().parents[2] / "configs" / "sweeps" / "tiny.yaml"
ONE_CELL = "axes={mask.strategy: [random], mask.joint_ratio: [0.5]}"  # the spec's random 0.5 cell alone


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data") / "tiny-ntu60-xsub"
    assert FRAMES == 24
    return write_dataset(
        root, {"train": _samples(16, 0, "train"), "test": _samples(8, 1, "test")}, benchmark="ntu60-xsub"
    )


def _spec(data: Path, output: Path, *overrides: str):
    return load_sweep_spec(
        TINY_SPEC,
        [f"dataset.root={json.dumps(str(data))}", f"output_root={json.dumps(str(output))}", *overrides],
    )


@pytest.fixture(scope="module")
def finished(tiny_data, tmp_path_factory):
    output = tmp_path_factory.mktemp("sweep") / "tiny"
    return output, run_sweep(_spec(tiny_data, output))


def _refuse(*args, **kwargs):
    raise AssertionError("a finished run was started again")


def test_two_by_two_sweep_fills_every_cell(finished):
    output, outcome = finished
    assert not outcome.failed() and len(outcome.records) == 8  # 4 pre-trainings + 4 fine-tunings
    rows = list(csv.DictReader((output / "results.csv").open()))
    assert [(r["mask.strategy"], r["mask.joint_ratio"]) for r in rows] == [
        ("fixed", "0.4"),
        ("fixed", "0.5"),
        ("random", "0.4"),
        ("random", "0.5"),
    ]
    for row in rows:
        assert 0.0 <= float(row["top1_mean"]) <= 100.0 and row["seeds_done"] == "1"
        assert float(row["pretrain_val_loss"]) > 0 and row["problems"] == ""
        assert float(row["pretrain_interp_ratio"]) > 0  # model MSE / interpolation MSE
        assert float(row["paper_top1"]) > 80  # Table 1, same strategy and ratios (frame 0.5)
    table = (output / "results.md").read_text()
    assert "not run" not in table and "failed" not in table and "| |" not in table
    assert "MSE / interp." in table
    assert "| random | 0.5 |" in table and "| 86.6 |" in table  # paper's (0.5, 0.5) random cell
    finetune = output / "finetune" / "strategy-random__joint_ratio-0.5__labels-1.0__seed-1"
    assert (finetune / "best.pt").is_file()
    assert (
        str(output / "pretrain" / "strategy-random__joint_ratio-0.5" / "best.pt")
        in (finetune / "config.yaml").read_text()
    )


def test_rerun_skips_finished_cells(finished, tiny_data):
    output, first = finished
    again = run_sweep(_spec(tiny_data, output), stage_functions={"pretrain": _refuse, "finetune": _refuse})
    assert not again.failed()
    assert {k: r.seconds for k, r in again.records.items()} == {
        k: r.seconds for k, r in first.records.items()
    }
    saved = load_sweep_spec(output / "sweep.yaml")  # the resolved spec re-runs the same sweep
    assert not run_sweep(saved, stage_functions={"pretrain": _refuse, "finetune": _refuse}).failed()


def test_a_changed_setting_stops_before_reusing_old_results(finished, tiny_data):
    output, _ = finished
    spec = _spec(tiny_data, output, "pretrain.settings.optim.lr=0.001")
    with pytest.raises(SweepConfigMismatch, match="optim.lr: 0.005 -> 0.001"):
        run_sweep(spec, stage_functions={"pretrain": _refuse, "finetune": _refuse})


def test_a_redone_pretraining_is_not_paired_with_old_fine_tunings(tiny_data, tmp_path):
    import shutil

    from skeletonmae.experiments.sweep_dir import file_digest

    output, one = tmp_path / "redo", ONE_CELL
    name = "strategy-random__joint_ratio-0.5"
    finetune = f"{name}__labels-1.0__seed-1"
    assert not run_sweep(_spec(tiny_data, output, one)).failed()
    shutil.rmtree(output / "pretrain" / name)  # as the changed-settings message says
    with pytest.raises(SweepConfigMismatch, match=f"finetune/{finetune}: .*which is gone"):
        run_sweep(_spec(tiny_data, output, one), stage_functions={"pretrain": _refuse, "finetune": _refuse})
    shutil.rmtree(output / "finetune" / finetune)
    assert not run_sweep(_spec(tiny_data, output, one)).failed()
    pretrain_record = read_record(record_path(output, "pretrain", name))
    finetune_record = read_record(record_path(output, "finetune", finetune))
    assert pretrain_record.attempts == finetune_record.attempts == 1  # deleted runs not counted
    assert finetune_record.pretrained_digest == file_digest(output / "pretrain" / name / "best.pt")


def test_interrupted_sweep_resumes(tiny_data, tmp_path, caplog):
    output = tmp_path / "killed"
    overrides = [
        ONE_CELL,
        "pretrain.settings.training.epochs=2",
        "pretrain.settings.training.checkpoint_every_steps=1",
    ]
    script = (
        "import sys, json; from skeletonmae.experiments.spec import load_sweep_spec; "
        "from skeletonmae.experiments.runner import run_sweep; "
        "run_sweep(load_sweep_spec(sys.argv[1], json.loads(sys.argv[2])))"
    )
    all_overrides = [
        f"dataset.root={json.dumps(str(tiny_data))}",
        f"output_root={json.dumps(str(output))}",
        *overrides,
    ]
    # 4 steps per epoch: killed inside epoch 2
    env = {**os.environ, KILL_AFTER_STEP_ENV: "6", "OMP_NUM_THREADS": "1"}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_PRELUDE + script, str(TINY_SPEC), json.dumps(all_overrides)],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    name = "strategy-random__joint_ratio-0.5"
    assert read_record(record_path(output, "pretrain", name)).status == "running"
    caplog.set_level("INFO")
    outcome = run_sweep(load_sweep_spec(TINY_SPEC, all_overrides))
    assert not outcome.failed()
    assert "resuming at epoch 2" in caplog.text
    record = read_record(record_path(output, "pretrain", name))
    assert record.status == "complete" and record.attempts == 2 and record.seconds > 0
    epochs = [row["epoch"] for row in csv.DictReader((output / "pretrain" / name / "metrics.csv").open())]
    assert epochs == ["1", "2"]
    assert "| random | 0.5 |" in (output / "results.md").read_text()


def test_shorter_pretraining_is_a_snapshot_of_the_longer_one(tiny_data, tmp_path):
    axes = "axes={pretrain.training.epochs: [1, 2]}"
    plot = "plot={x: pretrain.training.epochs}"
    paper = "paper={benchmark: ntu60-xsub, numbers: [{top1: 86.6, setting: {pretrain.training.epochs: 2}}]}"
    shared = run_sweep(_spec(tiny_data, tmp_path / "shared", axes, plot, paper))
    assert not shared.failed()
    shorter = read_record(record_path(tmp_path / "shared", "pretrain", "epochs-1"))
    assert shorter.status == "complete" and shorter.snapshot_of == "epochs-2" and shorter.epochs == 1
    longer_dir = tmp_path / "shared/pretrain/epochs-2"
    assert (longer_dir / "epoch-0001.pt").is_file() and not (tmp_path / "shared/pretrain/epochs-1").exists()
    finetune_config = tmp_path / "shared/finetune/epochs-1__labels-1.0__seed-1/config.yaml"
    assert str(longer_dir / "epoch-0001.pt") in finetune_config.read_text()
    assert shared.tables["plot"].stat().st_size > 5000
    lines = (tmp_path / "shared/results.md").read_text().splitlines()
    assert [line.startswith("| 2 |") for line in lines if "| 86.6 |" in line] == [True]  # the paper's point
    # Run again: everything is complete, nothing is trained.
    again = run_sweep(
        _spec(tiny_data, tmp_path / "shared", axes, plot, paper),
        stage_functions={"pretrain": _refuse, "finetune": _refuse},
    )
    assert not again.failed()
    # The same 1-epoch pre-training run alone (its fine-tuning is not needed here).
    from skeletonmae.training.stages import run_pretrain

    separate = run_sweep(
        _spec(tiny_data, tmp_path / "separate", "axes={pretrain.training.epochs: [1]}"),
        stage_functions={"pretrain": run_pretrain, "finetune": _refuse},
    )
    assert [r.name for r in separate.failed()] == ["epochs-1__labels-1.0__seed-1"]
    alone = list(csv.DictReader((tmp_path / "separate/pretrain/epochs-1/metrics.csv").open()))
    first = list(csv.DictReader((longer_dir / "metrics.csv").open()))[:1]
    # The schedule's milestones are in epochs, so epoch 1 of the 2-epoch run is the 1-epoch run
    # (up to the CPU's run-to-run float noise; another seed or data order moves it by far more).
    assert [float(r["train_loss"]) for r in first] == pytest.approx(
        [float(r["train_loss"]) for r in alone], rel=1e-3
    )


def test_a_snapshot_missing_from_a_finished_run_fails_naming_the_folder(tiny_data, tmp_path):
    output = tmp_path / "late"
    from skeletonmae.training.stages import run_pretrain

    first = run_sweep(
        _spec(tiny_data, output, "axes={pretrain.training.epochs: [2]}"),
        stage_functions={"pretrain": run_pretrain, "finetune": _refuse},
    )
    assert [key for key, r in first.records.items() if r.status == "complete"] == [("pretrain", "epochs-2")]
    # A 1-epoch point planned after the 2-epoch run finished has no snapshot to take.
    run_sweep(
        _spec(tiny_data, output, "axes={pretrain.training.epochs: [1, 2]}"),
        stage_functions={"pretrain": _refuse, "finetune": _refuse},
    )
    shorter = read_record(record_path(output, "pretrain", "epochs-1"))
    assert shorter.status == "failed" and "epoch-0001.pt is missing" in shorter.reason
    assert str(output / "pretrain" / "epochs-2") in shorter.reason


def test_report_puts_the_papers_numbers_beside_ours(finished, tmp_path):
    output, _ = finished
    (output / "results.md").unlink()
    report = build_report([output], tmp_path / "reports" / "report.md").read_text()
    assert report.startswith("# SkeletonMAE results") and (output / "results.md").is_file()  # refreshed
    assert "| strategy | joint_ratio | top-1 (%) | paper ntu60-xsub (%) | Δ |" in report
    top1 = next(
        r
        for r in csv.DictReader((output / "results.csv").open())
        if r["cell"] == "strategy-random__joint_ratio-0.5"
    )["top1_mean"]
    assert f"| random | 0.5 | {float(top1):.1f} | 86.6 | {float(top1) - 86.6:+.1f} |" in report
    own = [line for line in report.splitlines() if line.startswith("- [") and line.endswith("/curves.png)")]
    assert len(own) == 8  # a link to each run's own curves, relative to the report
    assert all((tmp_path / "reports" / line.split("](")[1].rstrip(")")).is_file() for line in own)
    with pytest.raises(FileNotFoundError, match="not a sweep folder"):  # a run folder has its own curves
        build_report([output / "pretrain" / "strategy-fixed__joint_ratio-0.4"], tmp_path / "r.md")


def _selected(plan):
    return {cell.finetune.name for cell in plan.selected_cells}


def test_shards_split_the_cells_by_pretraining_and_cover_the_grid(tiny_data, tmp_path):
    from skeletonmae.experiments.plan import plan_sweep

    # two seeds share each pre-training (seeds fine-tuning only): 4 groups of 2 cells
    spec = _spec(tiny_data, tmp_path / "plan", "seeds=[1,2]")
    whole = _selected(plan_sweep(spec))
    parts = [plan_sweep(spec, (k, 3)) for k in range(3)]
    names = [_selected(part) for part in parts]
    assert set().union(*names) == whole and sum(map(len, names)) == len(whole) == 8
    assert [len(n) for n in names] == [4, 2, 2]  # groups dealt round-robin: 2, 1, 1
    for part in parts:
        pretrains = [cell.pretrain.name for cell in part.selected_cells]
        assert all(pretrains.count(name) == 2 for name in pretrains)  # both seeds of a group
    assert _selected(plan_sweep(spec, (1, 3))) == names[1]  # deterministic
    # a pre-training chain is one group, however many epochs it has
    chain = _spec(tiny_data, tmp_path / "chain", "axes={pretrain.training.epochs: [1, 2, 3]}")
    assert [len(_selected(plan_sweep(chain, (k, 2)))) for k in range(2)] == [3, 0]


def test_each_shard_trains_its_own_runs_and_the_last_writes_the_whole_table(tiny_data, tmp_path):
    from skeletonmae.training.stages import run_finetune, run_pretrain

    output = tmp_path / "shards"
    calls = []

    def recording(stage, function):
        def run(config, **kwargs):
            calls.append((stage, Path(config.output_dir).name))
            return function(config, **kwargs)

        return run

    functions = {
        "pretrain": recording("pretrain", run_pretrain),
        "finetune": recording("finetune", run_finetune),
    }
    first = run_sweep(_spec(tiny_data, output), stage_functions=functions, shard=(0, 2))
    assert not first.failed() and len(calls) == 4  # 2 cells: their pre-training and fine-tuning
    table = (output / "results.md").read_text()
    assert table.count("not run yet") == 2  # the other shard's cells are listed, not yet run
    second = run_sweep(_spec(tiny_data, output), stage_functions=functions, shard=(1, 2))
    assert not second.failed() and len(calls) == 8 and len(set(calls)) == 8  # no run twice
    assert "not run yet" not in (output / "results.md").read_text()
    again = run_sweep(_spec(tiny_data, output), stage_functions={"pretrain": _refuse, "finetune": _refuse})
    assert not again.failed() and len(again.records) == 8


@pytest.mark.slow
def test_two_sweep_processes_on_two_shards_train_each_run_once(tiny_data, tmp_path):
    output = tmp_path / "two"
    where = [
        "--set",
        f"dataset.root={json.dumps(str(tiny_data))}",
        "--set",
        f"output_root={json.dumps(str(output))}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    commands = [
        [sys.executable, "-m", "skeletonmae", "sweep", str(TINY_SPEC), *where, "--shard", f"{k}/2"]
        for k in range(2)
    ]
    for returncode, printed in run_all_or_kill(commands, 600, env):
        assert returncode == 0, printed[-2000:]
    records = [read_record(path) for path in sorted(output.glob("records/*/*.json"))]
    assert len(records) == 8 and {r.status for r in records} == {"complete"}
    assert [r.attempts for r in records] == [1] * 8  # no run was started twice
    for record in records:
        rows = list(csv.DictReader((Path(record.run_dir) / "metrics.csv").open()))
        assert [row["epoch"] for row in rows] == ["1"]
    table = (output / "results.md").read_text()
    assert table.count("not run yet") == 0 and "running" not in table
