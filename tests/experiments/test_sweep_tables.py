"""Matching the paper's numbers, and collecting records into the table (no training)."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from skeletonmae.config import dump_yaml
from skeletonmae.experiments.collect import (
    collect_rows,
    format_duration,
    format_markdown_table,
    paper_number,
    write_sweep_tables,
)
from skeletonmae.experiments.plan import SweepPlan, plan_sweep
from skeletonmae.experiments.spec import LABEL_FRACTION_KEY, PaperColumn, PaperNumber, sweep_spec_from_mapping
from skeletonmae.experiments.sweep_dir import RunRecord, record_path, write_record
from skeletonmae.run_config import RunConfig, preset


def test_the_paper_number_of_a_setting_is_the_most_specific_match_after_equivalents():
    paper = PaperColumn(
        "ntu60-xsub",
        numbers=(
            PaperNumber(85.3, {"mask.frame_ratio": 0.0, "mask.joint_ratio": 0.4}),
            PaperNumber(86.3, {"mask.strategy": "random", "mask.frame_ratio": 0.0, "mask.joint_ratio": 0.4}),
            PaperNumber(86.6, {"model.decoder_width": 256, "pretrain.training.epochs": 200}),
        ),
        equivalents={"model.decoder_width": {"16": 256}, "pretrain.training.epochs": {"20": 200}},
    )
    only_joint = {"mask.strategy": "fixed", "mask.frame_ratio": 0.0, "mask.joint_ratio": 0.4}
    assert paper_number(paper, only_joint).top1 == 85.3  # the paper's row states no strategy
    assert paper_number(paper, {**only_joint, "mask.strategy": "random"}).top1 == 86.3
    assert paper_number(paper, {"mask.frame_ratio": 0.0}) is None  # the joint ratio is not ours
    scaled = {"model.decoder_width": 16, "pretrain.training.epochs": 20}
    assert paper_number(paper, scaled).top1 == 86.6
    assert paper_number(paper, {**scaled, "pretrain.training.epochs": 10}) is None
    assert format_duration(42) == "42 s" and format_duration(600) == "10.0 min"
    assert format_duration(0) == "—"


WIDTHS = [
    {"top1": 85.2, "setting": {"model.decoder_width": 128}},
    {"top1": 86.6, "setting": {"model.decoder_width": 256}},
]


def _parameters(width: int) -> dict[str, int]:
    from skeletonmae.models.cost import count_parameters
    from skeletonmae.models.mae import SkeletonMAE

    config = RunConfig(model=dataclasses.replace(preset("cpu-small"), decoder_width=width))
    model = SkeletonMAE(config.model, config.mask)
    return {"decoder": count_parameters(model.decoder), "total": count_parameters(model)}


def _plan(root: Path, benchmark: str, **changes) -> SweepPlan:
    """The plan of a decoder-width sweep: 2 widths x 2 label fractions x 2 seeds (``changes``:
    spec keys replaced), with the config.yaml each pre-training writes (parameters are counted
    from it). Planning needs no dataset."""
    stage = {"settings": {"model": {"preset": "cpu-small"}}}
    spec = {
        "name": "widths",
        "title": "widths",
        "dataset": {"root": "/d", "benchmark": benchmark},
        "output_root": str(root),
        "pretrain": stage,
        "finetune": stage,
        "axes": {"model.decoder_width": [8, 16]},
        "label_fractions": [0.1, 1.0],
        "seeds": [1, 2],
        "show_parameters": True,
        "plot": {"x": "model.decoder_width"},
        "paper": {
            "benchmark": "ntu60-xsub",
            "numbers": WIDTHS,
            "equivalents": {"model.decoder_width": {8: 128, 16: 256}},
        },
    }
    plan = plan_sweep(sweep_spec_from_mapping({**spec, **changes}))
    for run in plan.pretrains:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        dump_yaml(run.config, run.run_dir / "config.yaml")
    return plan


def _records(root: Path, eight: str = "decoder_width-8") -> None:
    """Width 8 (variant ``eight``) fully done (two seeds each); width 16: one seed failed, one
    never ran at 10 %, and the 100 % cells lost their pre-training."""
    done = {
        f"{eight}__labels-0.1__seed-1": 0.50,
        f"{eight}__labels-0.1__seed-2": 0.60,
        f"{eight}__labels-1.0__seed-1": 0.80,
        f"{eight}__labels-1.0__seed-2": 0.84,
        "decoder_width-16__labels-0.1__seed-1": 0.70,
    }
    for name, top1 in done.items():
        write_record(
            record_path(root, "finetune", name),
            RunRecord("finetune", name, "", "complete", "val_top1", top1, 3, 4, 30.0, 1),
        )
    write_record(
        record_path(root, "finetune", "decoder_width-16__labels-1.0__seed-1"),
        RunRecord("finetune", "x", "", "complete", "val_top1", 0.9, 3, 4, 30.0, 1),
    )
    write_record(
        record_path(root, "pretrain", eight),
        RunRecord("pretrain", eight, "", "complete", "val_loss", 0.25, 4, 4, 120.0, 1),
    )
    write_record(
        record_path(root, "pretrain", "decoder_width-16"),
        RunRecord("pretrain", "decoder_width-16", "", "complete", "val_loss", 0.2, 4, 4, 120.0, 1),
    )
    write_record(
        record_path(root, "finetune", "decoder_width-16__labels-0.1__seed-2"),
        RunRecord("finetune", "x", "", "failed", reason="NonFiniteLossError: NaN"),
    )


def test_rows_average_seeds_and_say_why_a_cell_is_empty(tmp_path):
    plan = _plan(tmp_path, "nw-ucla")
    _records(tmp_path)
    rows = {(r.variant.name, r.label_fraction): r for r in collect_rows(plan)}
    full = rows[("decoder_width-8", 1.0)]
    assert full.top1 == pytest.approx([80.0, 84.0]) and full.mean == pytest.approx(82.0)
    assert full.std == pytest.approx(2.8284, abs=1e-3)
    assert full.paper.top1 == 85.2 and rows[("decoder_width-16", 1.0)].paper.top1 == 86.6
    partial = rows[("decoder_width-16", 0.1)]
    assert partial.top1 == pytest.approx([70.0]) and partial.problems == ["failed: NonFiniteLossError: NaN"]
    assert rows[("decoder_width-16", 1.0)].problems == ["not run yet"]  # seed 2 has no record
    table = format_markdown_table(plan, list(rows.values()))
    lines = table.splitlines()
    assert "paper ntu60-xsub (%)" in lines[0] and "Δ" not in lines[0]  # other dataset
    counts = _parameters(8)
    millions = f"{counts['decoder'] / 1e6:.3f} | {counts['total'] / 1e6:.3f}"
    assert f"| 8 | 100 % | 82.0 ± 2.8 (n=2) | 85.2 | {millions} |" in table
    assert "70.0 (1 of 2; failed: NonFiniteLossError: NaN)" in table
    assert all("| |" not in line for line in lines)  # every cell filled


def test_tables_show_the_difference_on_the_paper_benchmark_and_plot(tmp_path):
    plan = _plan(tmp_path, "ntu60-xsub")
    _records(tmp_path)
    written = write_sweep_tables(plan)
    markdown = written["markdown"].read_text()
    assert "| Δ |" in markdown and "| 82.0 ± 2.8 (n=2) | 85.2 | -3.2 |" in markdown
    assert "![top-1 against model.decoder_width](widths.png)" in markdown
    rows = list(csv.DictReader(io.StringIO(written["csv"].read_text())))
    assert len(rows) == 4 and rows[0]["paper_top1"] == "85.2"
    assert rows[0]["top1_per_seed"] == "50.0000;60.0000" and rows[0]["decoder_params"] == str(
        _parameters(8)["decoder"]
    )
    with Image.open(written["plot"]) as image:
        assert image.size[0] > 300


def test_a_from_scratch_row_gets_no_paper_number(tmp_path):
    plan = _plan(
        tmp_path,
        "ntu60-xsub",
        axes={"model.decoder_width": [8]},
        extra_cells=[{"name": "decoder_width-16", "from_scratch": True}],  # stands in for "scratch"
        paper={
            "benchmark": "ntu60-xsub",
            "numbers": [{"top1": 73.0, "setting": {LABEL_FRACTION_KEY: 0.1}}],  # Table 5, 10 %
        },
    )
    rows = {(r.variant.name, r.label_fraction): r for r in collect_rows(plan)}
    assert rows[("decoder_width-8", 0.1)].paper.top1 == 73.0
    assert rows[("decoder_width-16", 0.1)].paper is None and rows[("decoder_width-8", 1.0)].paper is None
    # its decoder width is not a setting of its run: shown as none, not as the stage config's
    assert rows[("decoder_width-16", 0.1)].settings == {"model.decoder_width": None}
    assert rows[("decoder_width-8", 0.1)].settings == {"model.decoder_width": 8}


def test_an_axis_free_sweep_calls_its_base_row_pre_trained(tmp_path):
    # as table5_nw_ucla.yaml: one pre-training and a scratch extra cell
    extra = [{"name": "decoder_width-16", "settings": {"model.decoder_width": 16}}]
    plan = _plan(tmp_path, "nw-ucla", axes={}, extra_cells=extra, plot=None)
    _records(tmp_path, eight="base")
    table = format_markdown_table(plan, collect_rows(plan))
    assert "| pre-trained | 100 % | 82.0 ± 2.8 (n=2) |" in table
    assert "| decoder_width-16 | 10 % | 70.0 (1 of 2;" in table


def test_label_fraction_plot_draws_one_line_per_cell(tmp_path):
    plan = _plan(
        tmp_path,
        "ntu60-xsub",
        plot={"x": "finetune.data.label_fraction", "x_label": "labels (%)"},
    )
    _records(tmp_path)
    from skeletonmae.experiments.figures import _series_name, _x_value

    rows = collect_rows(plan)
    assert sorted({_x_value(r, LABEL_FRACTION_KEY) for r in rows}) == [10.0, 100.0]
    assert {_series_name(r, LABEL_FRACTION_KEY) for r in rows} == {
        "decoder_width=8",
        "decoder_width=16",
    }  # the label fraction is the x axis, not a line
    written = write_sweep_tables(plan)
    with Image.open(written["plot"]) as image:
        assert image.size[0] > 300


def test_a_sweep_folder_is_planned_again_from_its_sweep_yaml_without_the_dataset(tmp_path):
    from skeletonmae.experiments.sweep_dir import read_sweep_plan, write_spec_file

    with pytest.raises(FileNotFoundError, match="not a sweep folder"):
        read_sweep_plan(tmp_path)
    plan = _plan(tmp_path, "nw-ucla")  # its dataset, /d, does not exist
    write_spec_file(plan.spec)
    assert read_sweep_plan(tmp_path) == plan
