"""Sweep specs, the paper's numbers they hold, grid expansion and planning (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_test_data import _samples, stage_settings, tiny_spec, write_spec, write_tiny_dataset

from skeletonmae.config import ConfigError
from skeletonmae.data.store import write_dataset
from skeletonmae.experiments.plan import expand_variants, plan_sweep, resolve_spec, shard_cells
from skeletonmae.experiments.runner import SweepRunner
from skeletonmae.experiments.spec import load_sweep_spec, sweep_spec_from_mapping


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny")


def test_grid_expands_every_combination_in_written_order(tmp_path):
    spec = sweep_spec_from_mapping(
        tiny_spec(
            tmp_path,
            tmp_path / "out",
            axes={"mask.strategy": ["fixed", "random"], "mask.frame_ratio": [0.4, 0.5, 0.6]},
        )
    )
    variants = expand_variants(spec)
    assert [v.name for v in variants] == [
        f"strategy-{s}__frame_ratio-{f}" for s in ("fixed", "random") for f in (0.4, 0.5, 0.6)
    ]
    assert variants[4].axis_values == (("mask.strategy", "random"), ("mask.frame_ratio", 0.5))


def test_extra_cells_overrides_and_stage_prefixes(tmp_path):
    spec = sweep_spec_from_mapping(
        tiny_spec(
            tmp_path,
            tmp_path / "out",
            axes={"mask.strategy": ["fixed", "random"], "pretrain.training.epochs": [1, 2]},
            extra_cells=[
                {"name": "only-frame", "settings": {"mask.joint_ratio": 0.0}},
                {"name": "scratch", "from_scratch": True},
            ],
        )
    )
    variants = {v.name: v for v in expand_variants(spec)}
    assert list(variants)[-2:] == ["only-frame", "scratch"]
    fixed = variants["strategy-fixed__epochs-2"]
    assert fixed.stage_settings("pretrain") == [("mask.strategy", "fixed"), ("training.epochs", 2)]
    assert fixed.stage_settings("finetune") == [("mask.strategy", "fixed")]
    assert variants["scratch"].from_scratch and variants["only-frame"].is_extra
    assert fixed.pretrain_name == "strategy-fixed__epochs-2"


def test_keys_of_the_finetune_section_reach_the_fine_tuning_stage(tiny_data, tmp_path):
    """``finetune.layer_decay`` is RunConfig's key, not a stage prefix before ``layer_decay``:
    as an axis it changes only the fine-tunings, and the fine-tuning section may set it."""
    finetune = {"settings": {**stage_settings(), "finetune.frozen_encoder_epochs": 1}}
    spec = sweep_spec_from_mapping(
        tiny_spec(tiny_data, tmp_path / "out", axes={"finetune.layer_decay": [0.5, 1.0]}, finetune=finetune)
    )
    plan = plan_sweep(spec)
    assert len(plan.pretrains) == 1 and len(plan.cells) == 2
    decays = sorted(cell.finetune.config.finetune.layer_decay for cell in plan.cells)
    assert decays == [0.5, 1.0]
    assert {cell.finetune.config.finetune.frozen_encoder_epochs for cell in plan.cells} == {1}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"plot": {"x": "mask.frame_ratio"}}, "plot.x"),
        ({"plot": {"x": "finetune.data.label_fraction"}}, "two or more label_fractions"),  # only 100 % here
        ({"axes": {"output_dir": ["a"]}}, "axes"),
        ({"axes": {"finetune.data.label_fraction": [0.1]}}, "label_fractions"),
        ({"label_fractions": [0.0, 0.1]}, "label_fractions"),
        ({"axes": {"mask.frame_ratio": []}}, "non-empty"),
        ({"extra_cells": [{"name": "a"}, {"name": "a"}]}, "unique"),
        ({"extra_cells": [{"name": "bad name"}]}, "extra_cells[0].name"),
        ({"paper": {"numbers": [{"top1": 85.0, "setting": {"mask.frame_ratio": 0.5}}]}}, "paper.benchmark"),
        ({"paper": {"benchmark": "ntu60-xsub", "numbers": [{"setting": {}}]}}, "top1: required key"),
        ({"seeds": [1, 1]}, "seeds"),
        ({"colour": "red"}, "colour: unknown key"),
        # removed: the paper's numbers are the spec's data, a part of a grid is a smaller spec or a shard
        ({"paper": {"table": "table1"}}, "paper.table: unknown key"),
        ({"only": {"mask.strategy": "random"}}, "only: unknown key"),
    ],
)
def test_spec_errors_name_the_file_and_the_key(tmp_path, change, message):
    path = write_spec(tmp_path / "bad.yaml", tiny_spec(tmp_path, tmp_path / "out", **change))
    with pytest.raises(ConfigError) as error:
        load_sweep_spec(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_overrides_and_relative_stage_config(tmp_path):
    base = tmp_path / "configs" / "base.yaml"
    base.parent.mkdir()
    base.write_text("optim:\n  lr: 0.002\n")
    spec_map = tiny_spec(tmp_path / "data", tmp_path / "out")
    spec_map["pretrain"] = {"config": "base.yaml", "settings": stage_settings()}
    path = write_spec(tmp_path / "configs" / "sweep.yaml", spec_map)
    spec = load_sweep_spec(path, ["output_root=/elsewhere", "seeds=[3, 4]", "dataset.benchmark=nw-ucla"])
    assert spec.output_root == Path("/elsewhere") and spec.seeds == (3, 4)
    assert spec.dataset.root == tmp_path / "data" and spec.dataset.benchmark == "nw-ucla"
    assert spec.pretrain.config == base.parent / "base.yaml"


def test_plan_shares_pretraining_and_sets_the_sweep_keys(tiny_data, tmp_path):
    spec = sweep_spec_from_mapping(
        tiny_spec(tiny_data, tmp_path / "out", label_fractions=[0.5, 1.0], seeds=[1, 2])
    )
    plan = plan_sweep(spec)
    assert len(plan.cells) == 4 * 2 * 2 and len(plan.pretrains) == 4
    cell = next(
        c
        for c in plan.cells
        if c.variant.name == "strategy-random__joint_ratio-0.4" and c.label_fraction == 0.5 and c.seed == 2
    )
    finetune = cell.finetune.config
    assert finetune.data.label_fraction == 0.5 and finetune.data.label_seed == 2
    assert finetune.training.seed == 2 and cell.pretrain.config.training.seed == 1
    assert finetune.finetune.pretrained == cell.pretrain.run_dir / "best.pt"
    assert cell.pretrain.config.mask.joint_ratio == 0.4
    assert cell.pretrain.config.model.num_classes == 10  # unbound: the stage binds it to the data (3)
    assert (
        cell.finetune.run_dir
        == (tmp_path / "out").resolve() / "finetune" / "strategy-random__joint_ratio-0.4__labels-0.5__seed-2"
    )


def test_scratch_cell_drops_the_stage_configs_pretrained_checkpoint(tiny_data, tmp_path):
    config = tmp_path / "finetune.yaml"  # names a checkpoint, as configs/nw-ucla/finetune.yaml
    config.write_text("finetune: {pretrained: runs/nw-ucla/pretrain/best.pt}\n")
    spec = sweep_spec_from_mapping(
        tiny_spec(
            tiny_data,
            tmp_path / "out",
            finetune={"config": str(config), "settings": stage_settings()},
            extra_cells=[{"name": "scratch", "from_scratch": True}],
        )
    )
    cells = {c.variant.name: c for c in plan_sweep(spec).cells}
    assert cells["scratch"].pretrain is None
    assert cells["scratch"].finetune.config.finetune.pretrained is None
    pretrained = cells["strategy-fixed__joint_ratio-0.4"]
    assert pretrained.finetune.config.finetune.pretrained == pretrained.pretrain.run_dir / "best.pt"


def test_plan_takes_shorter_pretrainings_as_snapshots_and_a_setting_unfit_for_the_data_fails_its_run(
    tiny_data, tmp_path
):
    spec = sweep_spec_from_mapping(
        tiny_spec(
            tiny_data,
            tmp_path / "out",
            axes={"pretrain.training.epochs": [3, 1, 2]},
            extra_cells=[{"name": "bad-ratio", "settings": {"mask.frame_ratio": 0.4}}],
        )
    )
    plan = plan_sweep(spec)
    runs = {run.name: run for run in plan.pretrains}
    snapshots = {name: run.snapshot_of.name if run.snapshot_of else None for name, run in runs.items()}
    assert snapshots == {"epochs-3": None, "epochs-1": "epochs-3", "epochs-2": "epochs-3", "bad-ratio": None}
    assert runs["epochs-3"].config.training.snapshot_epochs == (1, 2)
    assert runs["epochs-1"].checkpoint == runs["epochs-3"].run_dir / "epoch-0001.pt"
    fine_tunings = {cell.pretrain.name: cell.finetune.config.finetune.pretrained for cell in plan.cells}
    assert fine_tunings["epochs-2"] == runs["epochs-3"].run_dir / "epoch-0002.pt"
    assert fine_tunings["epochs-3"] == runs["epochs-3"].run_dir / "best.pt"
    # the snapshots' cells and their run are one shard's
    shard_of = {c.pretrain.name: k for k in (0, 1) for c in shard_cells(plan.cells, k, 2) if c.in_shard}
    assert shard_of["epochs-1"] == shard_of["epochs-2"] == shard_of["epochs-3"] != shard_of["bad-ratio"]
    # planning does not open the data; the run binds it and fails, and the runner records why
    bad = next(run for run in plan.pretrains if run.name == "bad-ratio")
    record = SweepRunner(plan).ensure(bad)
    assert record.status == "failed" and "keeps 7 of 12 frames" in record.reason  # a partial tuple


def test_plan_names_an_unknown_setting_key(tiny_data, tmp_path):
    spec = sweep_spec_from_mapping(tiny_spec(tiny_data, tmp_path / "out", axes={"mask.frame_rato": [0.5]}))
    with pytest.raises(ConfigError, match="mask.frame_rato: unknown key"):
        plan_sweep(spec)


def test_plan_rejects_a_missing_dataset_and_a_wrong_benchmark(tiny_data, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a prepared dataset"):
        resolve_spec(sweep_spec_from_mapping(tiny_spec(tmp_path / "nowhere", tmp_path / "out")))
    nw_ucla = write_dataset(tmp_path / "nw", {"train": _samples(3, 0, "s")}, benchmark="nw-ucla")
    spec = tiny_spec(nw_ucla, tmp_path / "out")
    spec["dataset"] = {"root": str(nw_ucla), "benchmark": "ntu60-xsub"}
    with pytest.raises(
        ValueError, match="dataset.benchmark is 'ntu60-xsub' but .* was prepared as 'nw-ucla'"
    ):
        resolve_spec(sweep_spec_from_mapping(spec))


SWEEP_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "sweeps"
EXPECTED_CELLS = {"table1": 24, "table2": 3, "table3": 4, "figure4": 4, "table5": 2, "tiny": 4}


@pytest.mark.parametrize("path", sorted(SWEEP_CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_specs_load_and_plan(path):
    assert path.read_text().startswith(f"# skeletonmae sweep configs/sweeps/{path.name}")
    spec = load_sweep_spec(path)
    variants = expand_variants(spec)
    assert len(variants) == EXPECTED_CELLS[path.stem.split("_")[0]]
    plan = plan_sweep(spec)  # every stage config resolves; planning does not open the dataset
    assert len(plan.cells) == len(variants) * len(spec.label_fractions) * len(spec.seeds)
    assert spec.paper.benchmark == "ntu60-xsub" and spec.paper.numbers


def _paper_numbers(name: str) -> dict[tuple, float]:
    """``{setting as sorted pairs: top-1}`` of a shipped spec; both of its specs hold the same."""
    specs = [load_sweep_spec(path).paper for path in sorted(SWEEP_CONFIGS.glob(f"{name}_*.yaml"))]
    numbers = [{tuple(sorted(n.setting.items())): n.top1 for n in paper.numbers} for paper in specs]
    assert len(numbers) == 2 and numbers[0] == numbers[1] and len(numbers[0]) == len(specs[0].numbers)
    return numbers[0]


def test_the_specs_hold_the_papers_numbers_as_its_text_states_them():
    table1 = _paper_numbers("table1")
    assert len(table1) == 24
    fixed = max(top1 for setting, top1 in table1.items() if ("mask.strategy", "fixed") in setting)
    best = [dict(setting) for setting, top1 in table1.items() if top1 == 86.6]
    assert fixed == 85.4 and round(86.6 - fixed, 1) == 1.2  # "1.2% better" (section 4.3)
    assert {(s["mask.frame_ratio"], s["mask.joint_ratio"]) for s in best} == {(0.5, 0.5), (0.4, 0.5)}
    assert list(_paper_numbers("table2").values()) == [85.2, 86.6, 86.0]  # width 128 / 256 / 512
    assert list(_paper_numbers("table3").values()) == [86.5, 86.6, 86.2, 85.7]  # depth 11 / 9 / 7 / 5
    assert list(_paper_numbers("figure4").values()) == [86.4, 86.6]  # 150 and 200 epochs
    assert list(_paper_numbers("table5").values()) == [64.4, 73.0]  # 5 % and 10 % of the labels
    tiny = load_sweep_spec(SWEEP_CONFIGS / "tiny.yaml").paper.numbers
    assert {tuple(sorted(n.setting.items())): n.top1 for n in tiny}.items() <= table1.items()
