"""`skeletonmae inspect FILE [--json]` and `skeletonmae inspect --model PRESET [--json] [--set K=V]`."""

from __future__ import annotations

import json

import pytest
import torch
from cli_runner import run_cli  # noqa: E402

from skeletonmae.models import MaskConfig, preset
from skeletonmae.models.classifier import SkeletonClassifier
from skeletonmae.models.cost import count_gflops, count_parameters
from skeletonmae.models.mae import SkeletonMAE


def _run(argv: list[str]) -> int:
    return run_cli(argv)


def run(argv, capsys):
    return run_cli(argv, capsys)


def test_inspect_bad_input(tmp_path, capsys):
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("2\n1\n")
    assert _run(["inspect", str(bad)]) == 1
    assert "S001C001P001R001A001.skeleton, line 3" in capsys.readouterr().err
    assert _run(["inspect", str(tmp_path / "nothing.npz")]) == 1


def test_model_json_reports_parameters_and_gflops_of_every_part(capsys):
    code, out, _ = run(["inspect", "--model", "cpu-small", "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    config = preset("cpu-small")
    mae = SkeletonMAE(config, MaskConfig())
    assert report["classifier_params"] == count_parameters(SkeletonClassifier(config))
    assert report["encoder_params"] == count_parameters(mae.encoder)
    assert report["decoder_params"] == count_parameters(mae.decoder)
    for key in ("classifier_gflops", "encoder_gflops", "encoder_full_gflops", "decoder_gflops"):
        assert report[key] > 0
    # the visible-token encoder at alpha = beta = 0.5 sees 25 % of the 60 x 20 tokens
    assert (report["visible_frames"], report["visible_joints"]) == (30, 10)
    assert report["encoder_gflops"] < 0.35 * report["encoder_full_gflops"]
    assert report["model"]["num_joints"] == 20 and report["mask"]["frame_ratio"] == 0.5


def test_model_ntu60_reports_the_faithful_parameter_count_and_known_gflops(capsys):
    code, out, _ = run(["inspect", "--model", "ntu60", "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["sttformer_params"] == 6_233_588
    assert report["sttformer_gflops"] == pytest.approx(76.4, abs=0.05)  # measured in DESIGN.md


def test_model_overrides_reach_model_and_mask(capsys):
    code, out, _ = run(
        [
            "inspect",
            "--model",
            "cpu-small",
            "--json",
            "--set",
            "decoder_depth=1",
            "--set",
            "mask.frame_ratio=0.4",
            "--set",
            "model.num_classes=7",
        ],
        capsys,
    )
    report = json.loads(out)
    assert code == 0
    assert report["model"]["decoder_depth"] == 1 and report["model"]["num_classes"] == 7
    assert report["visible_frames"] == 36


def test_model_table_output_names_the_parts(capsys):
    code, out, _ = run(["inspect", "--model", "cpu-small"], capsys)
    assert code == 0
    for needle in ("classifier", "encoder, visible tokens", "decoder (16 x 2)", "GFLOPs"):
        assert needle in out
    assert run(["inspect", "--preset", "cpu-small"], capsys)[1] == out  # the old option name


def test_inspect_takes_a_file_or_a_model_not_both(tmp_path, capsys):
    code, out, err = run(["inspect"], capsys)
    assert code == 2 and out == "" and "FILE or --model" in err
    code, out, err = run(["inspect", str(tmp_path), "--model", "cpu-small"], capsys)
    assert code == 2 and out == "" and "FILE or --model" in err
    code, out, err = run(["inspect", str(tmp_path), "--set", "decoder_depth=1"], capsys)
    assert code == 2 and out == "" and "--model PRESET" in err


@pytest.mark.parametrize(
    "override,needle",
    [
        ("bogus=1", "unknown key 'bogus'"),
        ("mask.frame_ratio=0.25", "tuple_len"),
        ("num_frames=50", "num_frames"),
        ("extra.x=1", "unknown section"),
    ],
)
def test_model_bad_overrides_exit_2_with_the_key_named(capsys, override, needle):
    code, out, err = run(["inspect", "--model", "cpu-small", "--set", override], capsys)
    assert code == 2 and out == "" and needle in err


def test_flop_counter_counts_a_multiply_add_as_two():
    layer = torch.nn.Linear(10, 20)
    assert count_gflops(lambda: layer(torch.randn(3, 10))) * 1e9 == pytest.approx(2 * 3 * 10 * 20)
