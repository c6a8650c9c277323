"""RunConfig: paper defaults, YAML + overrides, validation messages, binding to the data, configs/."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skeletonmae.config import ConfigError, dump_yaml
from skeletonmae.data.binding import bind_model_to_data, dataset_info
from skeletonmae.data.store import load_split
from skeletonmae.distributed import DistributedContext
from skeletonmae.models.mae import SkeletonMAE
from skeletonmae.run_config import RunConfig, load_run_config, preset
from skeletonmae.training.data_setup import micro_batch_size

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_defaults_are_the_papers():
    config = RunConfig()
    assert (config.optim.name, config.optim.lr, config.optim.weight_decay) == ("adam", 0.005, 1e-4)
    assert config.schedule.milestones == (60, 90, 110) and config.schedule.gamma == 0.1
    assert config.training.epochs == 200 and config.training.label_smoothing == 0.1
    assert config.data.batch_size == 64
    assert config.model == preset("ntu60")
    assert (config.mask.frame_ratio, config.mask.joint_ratio, config.mask.strategy) == (0.5, 0.5, "random")


def test_yaml_with_preset_and_overrides(tmp_path: Path):
    source = tmp_path / "run.yaml"
    source.write_text(
        "# skeletonmae pretrain --config run.yaml\n"
        "model:\n  preset: cpu-small\n  decoder_depth: 3\n"
        "optim:\n  lr: 0.01\n",
        encoding="utf-8",
    )
    config, pinned = load_run_config(
        source, ["optim.lr=0.001", "model.num_classes=5", "data.transform.num_frames=30"]
    )
    assert config.model == preset("cpu-small", decoder_depth=3, num_classes=5)
    assert config.optim.lr == 0.001
    assert config.data.transform.num_frames == 30
    assert pinned == {"num_classes"}  # explicitly chosen; must match the data later


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lrr=0.1", r"^optim\.lrr: unknown key"),
        ("optim.lr=-1", r"^optim\.lr: must be a positive number"),
        ("optim.lr=fast", r"^optim\.lr: expected a number"),
        ("training.amp=fp8", r"^training\.amp: expected one of 'none', 'bf16', 'fp16'"),
        ("data.label_fraction=0", r"^data\.label_fraction: must be in \(0, 1\]"),
        ("data.pretrain_fraction=1.5", r"^data\.pretrain_fraction: must be in \(0, 1\]"),
        ("data.transform.stream=rgb", r"^data\.transform\.stream: must be one of"),
        ("model.preset=huge", r"^model\.preset: unknown model preset 'huge'"),
        ("model.num_frames=100", r"^model\.num_frames: 100 frames do not split into tuples"),
        ("mask.frame_ratio=1.5", r"^mask\.frame_ratio: "),
        ("schedule.milestones=[90, 60]", r"^schedule\.milestones: must be increasing"),
        ("outputdir=x", r"^outputdir: unknown key"),
    ],
)
def test_invalid_values_name_the_dotted_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_run_config(None, [override])


def test_error_names_the_yaml_file(tmp_path: Path):
    source = tmp_path / "bad.yaml"
    source.write_text("training:\n  epochs: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: training\.epochs: must be >= 1"):
        load_run_config(source)


def test_resolved_config_round_trips(tmp_path: Path):
    config, _ = load_run_config(None, ["model.preset=cpu-small", "finetune.pretrained=a/b.pt"])
    dump_yaml(config, tmp_path / "config.yaml", header="skeletonmae finetune --config x")
    reloaded, pinned = load_run_config(tmp_path / "config.yaml")
    assert reloaded == config
    assert "num_joints" in pinned  # a resolved config pins every model field


def test_binding_takes_shape_from_data_and_checks_pinned_fields(tiny_dataset: Path):
    arrays = load_split(tiny_dataset / "train")
    info = dataset_info(arrays)
    config, pinned = load_run_config(None, ["model.preset=ntu60", "data.transform.num_frames=60"])
    bound = bind_model_to_data(config, info, pinned)
    model = bound.model
    assert (model.num_joints, model.num_persons, model.num_classes, model.num_frames) == (20, 1, 3, 60)
    assert model.stages == preset("ntu60").stages  # the rest is the preset's
    config, pinned = load_run_config(None, ["model.num_joints=25"])
    with pytest.raises(ValueError, match=r"model\.num_joints=25 disagrees with .*meta\.json.*\(20\)"):
        bind_model_to_data(config, info, pinned)
    config, pinned = load_run_config(None, ["model.num_frames=120", "data.transform.num_frames=60"])
    with pytest.raises(
        ValueError,
        match=r"model\.num_frames=120 disagrees with "
        r"data\.transform\.num_frames \(60\)",
    ):
        bind_model_to_data(config, info, pinned)
    config, _ = load_run_config(None, ["data.transform.num_frames=12", "mask.frame_ratio=0.4"])
    bound = bind_model_to_data(config, info)  # the masking is checked once, by the model it drives
    with pytest.raises(ValueError, match="frame_ratio"):  # 7 of 12 frames kept: no whole tuples
        SkeletonMAE(bound.model, bound.mask)


def test_global_batch_splits_over_ranks_and_accumulation():
    config, _ = load_run_config(None, ["data.batch_size=64", "training.grad_accumulation=4"])
    assert micro_batch_size(config, DistributedContext(world_size=2)) == 8
    uneven = dataclasses.replace(config, data=dataclasses.replace(config.data, batch_size=60))
    with pytest.raises(
        ValueError,
        match=r"batch_size=60 does not split over 2 process\(es\) x "
        r"training\.grad_accumulation=4; use a multiple of 8",
    ):
        micro_batch_size(uneven, DistributedContext(world_size=2))


def test_every_shipped_config_loads_and_starts_with_its_command():
    folders = ("ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset", "nw-ucla")
    paths = [CONFIGS / "cpu-smoke.yaml"] + sorted(
        path for folder in folders for path in (CONFIGS / folder).glob("*.yaml")
    )
    assert len(paths) == 15  # pretrain + finetune per paper benchmark, 6 NW-UCLA runs, smoke
    for path in paths:
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert first_line.startswith("# skeletonmae "), path
        assert f"--config configs/{path.relative_to(CONFIGS)}" in first_line, path
        config, _ = load_run_config(path)
        if path.stem.startswith(("finetune", "linear")):
            continue  # these stages never mask: their mask section is not checked
        config.mask.check_against(
            dataclasses.replace(config.model, num_frames=config.data.transform.num_frames)
        )
    paper, _ = load_run_config(CONFIGS / "ntu60-xsub" / "pretrain.yaml")
    assert paper.model == preset("ntu60") and paper.mask.frame_ratio == 0.4
    assert paper.data.batch_size == 64 and paper.training.epochs == 200
