"""``skeletonmae sweep`` (running a spec, and ``--report``) through its argument parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from skeletonmae.cli import sweep as sweep_cli
from skeletonmae.data.classes import NW_UCLA_CLASS_NAMES
from skeletonmae.data.samples import SkeletonSamples
from skeletonmae.data.store import write_dataset

TINY_SPEC = Path(__file__).resolve().parents[2] / "configs" / "sweeps" / "tiny.yaml"
ONE_CELL = ["--set", "axes={mask.strategy: [random], mask.joint_ratio: [0.5]}"]  # a smaller spec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skeletonmae")
    commands = parser.add_subparsers(dest="command")
    sweep_cli.register(commands)
    return parser


def _run(*argv: str) -> int:
    namespace = _parser().parse_args(list(argv))
    return namespace.func(namespace)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """12 + 6 random 20-joint sequences of 3 classes (the content does not matter here)."""
    rng = np.random.default_rng(0)

    def samples(count: int) -> SkeletonSamples:
        data = rng.normal(scale=0.3, size=(count, 3, 24, 20, 1)).astype(np.float32)
        return SkeletonSamples(
            data,
            np.arange(count) % 3,
            tuple(f"s{i}" for i in range(count)),
            np.full(count, 24),
            "nw_ucla20",
            NW_UCLA_CLASS_NAMES[:3],
        )

    return write_dataset(tmp_path_factory.mktemp("data") / "tiny", {"train": samples(12), "test": samples(6)})


def _where(data: Path, output: Path) -> list[str]:
    return [
        "--set",
        f"dataset.root={json.dumps(str(data))}",
        "--set",
        f"output_root={json.dumps(str(output))}",
    ]


def test_dry_run_lists_every_run_and_trains_nothing(tiny_data, tmp_path, capsys):
    assert _run("sweep", str(TINY_SPEC), *_where(tiny_data, tmp_path / "out"), "--dry-run") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sweep tiny: 4 cells, 4 pre-training runs")
    assert sum("fresh" in line for line in lines) == 8
    assert not (tmp_path / "out" / "pretrain").exists()


def test_sweep_then_report(tiny_data, tmp_path, capsys):
    output = tmp_path / "out"
    assert _run("sweep", str(TINY_SPEC), *_where(tiny_data, output), *ONE_CELL) == 0
    assert f"table: {output / 'results.md'}" in capsys.readouterr().out
    table = (output / "results.md").read_text()
    assert "| random | 0.5 |" in table and "fixed" not in table
    report = tmp_path / "report" / "r.md"
    assert _run("sweep", "--report", str(output), "-o", str(report)) == 0
    assert f"report: {report}" in capsys.readouterr().out
    text = report.read_text()
    assert text.startswith("# SkeletonMAE results") and "paper ntu60-xsub (%)" in text and "| 86.6 |" in text


def test_errors_are_one_line_and_exit_code_2(tiny_data, tmp_path, caplog):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_SPEC.read_text().replace("mask.joint_ratio:", "mask.joint_rato:"))
    assert _run("sweep", str(bad), *_where(tiny_data, tmp_path / "out")) == 2
    assert "mask.joint_rato: unknown key" in caplog.text
    assert _run("sweep", str(TINY_SPEC), *_where(tmp_path / "missing", tmp_path / "out")) == 2
    assert "not a prepared dataset" in caplog.text
    assert _run("sweep", "--report", str(tmp_path), "-o", str(tmp_path / "r.md")) == 2
    assert "not a sweep folder" in caplog.text and not (tmp_path / "r.md").exists()
    assert _run("sweep", "--report", str(tmp_path), "--shard", "0/2") == 2
    assert "--shard: options of running a spec; --report only re-collects sweep folders" in caplog.text
    assert _run("sweep", str(TINY_SPEC), "-o", str(tmp_path / "r.md")) == 2
    assert "-o/--output names the file of --report" in caplog.text
    for spec_and_report in (["sweep"], ["sweep", str(TINY_SPEC), "--report", str(tmp_path)]):
        with pytest.raises(SystemExit):  # one of the two, not both
            _parser().parse_args(spec_and_report)


def test_shard_is_part_k_of_n_counted_from_zero():
    for text in ("2/2", "1", "a/b", "0/0", "-1/2"):
        with pytest.raises(ValueError, match="--shard"):
            sweep_cli.parse_shard(text)
    assert sweep_cli.parse_shard("3/4") == (3, 4)


def test_dry_run_tells_what_the_sweep_would_refuse_or_split(tiny_data, tmp_path, capsys, caplog):

    output = tmp_path / "out"
    where = [*_where(tiny_data, output), *ONE_CELL]
    assert _run("sweep", str(TINY_SPEC), *where) == 0
    capsys.readouterr()
    assert (
        _run("sweep", str(TINY_SPEC), *where, "--dry-run", "--set", "pretrain.settings.optim.lr=0.001") == 0
    )
    out = capsys.readouterr().out
    stops = f"mismatch, the sweep stops: {output.resolve() / 'pretrain' / 'strategy-random__joint_ratio-0.5'}"
    assert f"{stops} holds a pretrain run made with other settings (optim.lr: 0.005 -> 0.001)" in out
    assert "delete that folder and its fine-tunings in finetune/ (strategy-random__joint_ratio-0.5__" in out
    # a pre-training that was redone since its cell was fine-tuned
    pretrain = output / "pretrain" / "strategy-random__joint_ratio-0.5"
    (pretrain / "best.pt").write_bytes((pretrain / "best.pt").read_bytes() + b"redone")
    assert _run("sweep", str(TINY_SPEC), *where, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "mismatch, the sweep stops: " in out and ": it was fine-tuned from an earlier" in out
    assert _run("sweep", str(TINY_SPEC), *where) == 2
    assert "delete that folder to fine-tune again" in caplog.text
    # a run that failed before: skipped, or run again with --retry-failed (the runner's decision)
    from skeletonmae.experiments.sweep_dir import RunRecord, record_path, write_record

    name = "strategy-random__joint_ratio-0.4"
    write_record(
        record_path(output, "pretrain", name), RunRecord("pretrain", name, "", "failed", reason="boom")
    )
    other = [*_where(tiny_data, output), "--set", "axes={mask.strategy: [random], mask.joint_ratio: [0.4]}"]
    assert _run("sweep", str(TINY_SPEC), *other, "--dry-run") == 0
    assert "failed: boom" in capsys.readouterr().out
    assert _run("sweep", str(TINY_SPEC), *other, "--dry-run", "--retry-failed") == 0
    assert "fresh (failed before: boom; runs again)" in capsys.readouterr().out
    # a shard lists its own part and counts the rest
    assert _run("sweep", str(TINY_SPEC), *_where(tiny_data, output), "--shard", "1/2", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "2 cells in shard 1/2 (2 in the other shards)" in out and out.count("finetune ") == 2
    assert _run("sweep", str(TINY_SPEC), *_where(tiny_data, output), "--shard", "2/2", "--dry-run") == 2
    assert "--shard '2/2': K must be in 0..N-1" in caplog.text
