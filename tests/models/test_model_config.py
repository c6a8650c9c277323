"""ModelConfig / MaskConfig: defaults, validation messages, round trips, presets."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from skeletonmae.config import from_mapping
from skeletonmae.run_config import PRESET_NAMES, MaskConfig, ModelConfig, StageSpec, preset


def test_defaults_are_the_papers_ntu60_setting():
    config = ModelConfig()
    assert (config.num_frames, config.tuple_len, config.num_joints, config.num_persons) == (120, 6, 25, 2)
    assert (config.num_tuples, config.num_slots, config.feature_dim) == (20, 150, 256)
    assert (config.decoder_width, config.decoder_depth, config.decoder_qk_dim) == (256, 9, 64)
    assert [(b.in_channels, b.out_channels, b.qk_dim) for b in config.block_specs][2] == (64, 128, 32)
    assert MaskConfig() == MaskConfig(0.5, 0.5, "random", "all")


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_round_trip_through_asdict_json_and_yaml(name):
    config = preset(name)
    plain = json.loads(json.dumps(dataclasses.asdict(config)))
    assert ModelConfig.from_dict(plain) == config
    assert ModelConfig(**plain) == config  # the constructor rebuilds nested stage specs too
    assert ModelConfig.from_dict(yaml.safe_load(yaml.safe_dump(dataclasses.asdict(config)))) == config
    mask = MaskConfig(frame_ratio=0.4, strategy="fixed")
    assert from_mapping(MaskConfig, json.loads(json.dumps(dataclasses.asdict(mask)))) == mask


def test_from_dict_rejects_unknown_keys_by_name():
    with pytest.raises(ValueError, match="decoder_widht"):
        ModelConfig.from_dict({"decoder_widht": 128})
    with pytest.raises(ValueError, match="stages\\[0\\].depth"):
        ModelConfig.from_dict({"stages": [{"channels": 8, "qk_dim": 2, "depth": 1}]})


def test_preset_overrides_from_dataset_meta_and_ablations():
    config = preset(
        "ntu60",
        num_joints=20,
        num_classes=10,
        num_persons=1,
        num_frames=60,
        tuple_len=4,
        decoder_width=128,
        decoder_depth=5,
    )
    assert (
        config.num_joints,
        config.num_classes,
        config.num_persons,
        config.num_frames,
        config.tuple_len,
        config.decoder_width,
        config.decoder_depth,
    ) == (20, 10, 1, 60, 4, 128, 5)
    assert preset("cpu-small", stages=[{"channels": 8, "qk_dim": 2, "num_blocks": 1}]).stages == (
        StageSpec(8, 2, 1),
    )
    assert preset("ntu120").num_classes == 120
    ucla = preset("nw-ucla")
    assert (ucla.num_joints, ucla.num_persons, ucla.num_frames, ucla.tuple_len, ucla.stages) == (
        20,
        1,
        60,
        6,
        ModelConfig().stages,
    )


def test_cpu_small_is_a_narrow_multi_stage_sttformer():
    small = preset("cpu-small")
    assert len(small.stages) >= 3 and small.feature_dim < ModelConfig().feature_dim
    assert small.decoder_width < 256 and small.decoder_depth < 9


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(num_frames=100), "num_frames"),
        (dict(num_joints=0), "num_joints"),
        (dict(decoder_width=130), "decoder_width"),
        (dict(slot_kernel=4), "slot_kernel"),
        (dict(head_dropout=1.0), "head_dropout"),
        (dict(stages=()), "stages"),
        (dict(stages=[{"channels": 8, "qk_dim": 2}]), "stages\\[0\\].*num_blocks"),
        (dict(stages=[[8, 2, 1]]), "stages\\[0\\]"),
        (dict(num_classes=2.5), "num_classes"),
    ],
)
def test_invalid_model_fields_are_named(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(frame_ratio=1.0), "frame_ratio"),
        (dict(joint_ratio=-0.2), "joint_ratio"),
        (dict(strategy="grid"), "strategy"),
        (dict(loss_on="visible"), "loss_on"),
    ],
)
def test_invalid_mask_fields_are_named(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MaskConfig(**kwargs)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(ValueError, match="ntu60, ntu120, nw-ucla, cpu-small"):
        preset("kinetics")
    with pytest.raises(ValueError, match="num_frame"):
        preset("ntu60", num_frame=60)
