"""CLI smoke test: skeletonmae pretrain -> finetune -> evaluate on prepared synthetic NTU data,
through the real `skeletonmae` entry point."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pytest
import torch
from cli_runner import run_cli  # noqa: E402

from skeletonmae.checkpoints import load_checkpoint
from skeletonmae.cli import train
from skeletonmae.data.prepare import prepare_ntu
from skeletonmae.data.synthetic import write_synthetic_ntu
from skeletonmae.run_config import load_run_config

SMOKE_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "cpu-smoke.yaml"


def _run(argv: list[str]) -> int:
    return run_cli(argv)


@pytest.fixture
def prepared(tmp_path: Path) -> Path:
    write_synthetic_ntu(tmp_path / "raw", 24, num_actions=3, frame_range=(30, 40), seed=5)
    prepare_ntu(tmp_path / "raw", tmp_path / "data", "ntu60-xsub", progress=False)
    return tmp_path / "data"


def test_pretrain_finetune_evaluate_chain(prepared: Path, tmp_path: Path, capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors; keeps the shared machine responsive
    try:
        common = [
            "--config",
            str(SMOKE_CONFIG),
            "--set",
            f"data.root={prepared}",
            "--set",
            "training.progress_bar=false",
        ]
        pre, fine = tmp_path / "runs" / "pre", tmp_path / "runs" / "fine"
        assert _run(["pretrain", *common, "--output-dir", str(pre)]) == 0
        assert (
            _run(
                [
                    "finetune",
                    *common,
                    "--output-dir",
                    str(fine),
                    "--pretrained",
                    str(pre / "best.pt"),
                    "--label-fraction",
                    "0.5",
                    "--set",
                    "data.batch_size=2",
                ]
            )
            == 0
        )
        assert _run(["evaluate", "--checkpoint", str(fine / "best.pt")]) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "top-1" in out and "eval_test.json" in out
    report = json.loads((fine / "eval_test.json").read_text())
    assert report["samples"] == 12 and 0.0 <= report["top1"] <= 1.0
    assert (fine / "confusion_test.png").is_file()
    ft = load_checkpoint(fine / "last.pt")
    assert ft["config"]["data"]["label_fraction"] == 0.5
    assert ft["config"]["finetune"]["pretrained"] == str(pre / "best.pt")
    assert ft["global_step"] == 2 * 3  # 6 of 12 training samples, batch 2: 3 steps x 2 epochs
    assert load_checkpoint(pre / "last.pt")["global_step"] == 2 * 1  # 12 samples, batch 8


def test_resume_flag_and_user_errors(prepared: Path, tmp_path: Path, caplog):
    common = [
        "--config",
        str(SMOKE_CONFIG),
        "--set",
        f"data.root={prepared}",
        "--set",
        "training.progress_bar=false",
        "--output-dir",
        str(tmp_path / "run"),
    ]
    with caplog.at_level(logging.ERROR):
        assert _run(["pretrain", *common, "--set", "optim.lrr=1"]) == 2
    assert "optim.lrr: unknown key" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert _run(["pretrain", *common, "--resume"]) == 2
    assert "nothing to resume" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert _run(["linear", *common]) == 2
    assert "linear evaluation needs finetune.pretrained" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert _run(["evaluate", "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert "checkpoint not found" in caplog.text


def test_convenience_flags_become_overrides():
    parser = argparse.ArgumentParser()
    train.register(parser.add_subparsers())
    namespace = parser.parse_args(
        [
            "finetune",
            "--set",
            "a.b=1",
            "--output-dir",
            "runs/x: y",
            "--pretrained",
            "p.pt",
            "--label-fraction",
            "0.05",
        ]
    )
    overrides = train.stage_overrides(namespace)
    assert overrides == [
        "a.b=1",
        ("output_dir", "runs/x: y"),
        ("finetune.pretrained", "p.pt"),
        ("data.label_fraction", 0.05),
    ]
    # the flags' values arrive typed: no text round trip (a ': ' in a path, a float stays 0.05)
    config, _ = load_run_config(None, overrides[1:])
    assert config.output_dir == Path("runs/x: y") and config.data.label_fraction == 0.05
