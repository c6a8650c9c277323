"""``skeletonmae info``: JSON keys and values, table output, overrides, bad keys."""

from __future__ import annotations

import json

import pytest
import torch
from cli_runner import run_cli  # noqa: E402

from skeletonmae.models import MaskConfig, build_classifier, build_mae, preset
from skeletonmae.models.cost import count_gflops, count_parameters


def run(argv, capsys):
    return run_cli(argv, capsys)


def test_json_reports_parameters_and_gflops_of_every_part(capsys):
    code, out, _ = run(["info", "--preset", "cpu-small", "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    config = preset("cpu-small")
    mae = build_mae(config, MaskConfig())
    assert report["classifier_params"] == count_parameters(build_classifier(config))
    assert report["encoder_params"] == count_parameters(mae.encoder)
    assert report["decoder_params"] == count_parameters(mae.decoder)
    for key in ("classifier_gflops", "encoder_gflops", "encoder_full_gflops", "decoder_gflops"):
        assert report[key] > 0
    # the visible-token encoder at alpha = beta = 0.5 sees 25 % of the 60 x 20 tokens
    assert (report["visible_frames"], report["visible_joints"]) == (30, 10)
    assert report["encoder_gflops"] < 0.35 * report["encoder_full_gflops"]
    assert report["model"]["num_joints"] == 20 and report["mask"]["frame_ratio"] == 0.5


def test_ntu60_reports_the_faithful_parameter_count_and_known_gflops(capsys):
    code, out, _ = run(["info", "--preset", "ntu60", "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["sttformer_params"] == 6_233_588
    assert report["sttformer_gflops"] == pytest.approx(76.4, abs=0.05)  # measured in DESIGN.md


def test_overrides_reach_model_and_mask(capsys):
    code, out, _ = run(
        [
            "info",
            "--preset",
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


def test_table_output_names_the_parts(capsys):
    code, out, _ = run(["info", "--preset", "cpu-small"], capsys)
    assert code == 0
    for needle in ("classifier", "encoder, visible tokens", "decoder (16 x 2)", "GFLOPs"):
        assert needle in out


@pytest.mark.parametrize(
    "override,needle",
    [
        ("bogus=1", "unknown key 'bogus'"),
        ("mask.frame_ratio=0.25", "tuple_len"),
        ("num_frames=50", "num_frames"),
        ("extra.x=1", "unknown section"),
    ],
)
def test_bad_overrides_exit_2_with_the_key_named(capsys, override, needle):
    code, out, err = run(["info", "--preset", "cpu-small", "--set", override], capsys)
    assert code == 2 and out == "" and needle in err


def test_flop_counter_counts_a_multiply_add_as_two():
    layer = torch.nn.Linear(10, 20)
    assert count_gflops(lambda: layer(torch.randn(3, 10))) * 1e9 == pytest.approx(2 * 3 * 10 * 20)
