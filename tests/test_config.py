"""The generic YAML + dotted-override loader for nested frozen dataclasses."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest
import yaml

from skeletonmae.config import (
    ConfigError,
    apply_overrides,
    dump_yaml,
    from_mapping,
    load_config,
    parse_override,
    read_yaml_mapping,
    require,
    to_plain,
)


@dataclasses.dataclass(frozen=True)
class InnerConfig:
    lr: float = 0.005
    milestones: tuple[int, ...] = (60, 90, 110)
    kind: Literal["adam", "sgd"] = "adam"

    def __post_init__(self) -> None:
        require(self.lr > 0, "lr", f"must be > 0, got {self.lr}; use a positive learning rate")


@dataclasses.dataclass(frozen=True)
class OuterConfig:
    inner: InnerConfig = InnerConfig()
    name: str = "run"
    seed: int = 0
    amp: bool = False
    path: Path | None = None
    pair: tuple[int, str] = (1, "a")
    extra: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PresetTarget:
    width: int = 64
    depth: int = 8


@dataclasses.dataclass(frozen=True)
class WithPreset:
    net: PresetTarget = PresetTarget()


def _net_preset(name: str) -> PresetTarget:
    table = {"small": PresetTarget(width=8, depth=2), "big": PresetTarget(width=512, depth=12)}
    if name not in table:
        raise KeyError(f"unknown preset {name!r}; choose one of {sorted(table)}")
    return table[name]


def test_defaults_and_nested_values_convert():
    cfg = from_mapping(OuterConfig, {"inner": {"lr": 1, "milestones": [5, 6]}, "path": "x/y"})
    assert cfg.inner.lr == 1.0 and isinstance(cfg.inner.lr, float)
    assert cfg.inner.milestones == (5, 6)
    assert cfg.path == Path("x/y")
    assert cfg.seed == 0 and cfg.name == "run"


@pytest.mark.parametrize(
    "data, dotted",
    [
        ({"inner": {"lrr": 1.0}}, "inner.lrr"),
        ({"seeed": 1}, "seeed"),
        ({"inner": {"lr": "fast"}}, "inner.lr"),
        ({"inner": {"lr": -1.0}}, "inner.lr"),
        ({"inner": {"kind": "rmsprop"}}, "inner.kind"),
        ({"inner": {"milestones": [1, "x"]}}, "inner.milestones[1]"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"amp": "yes"}, "amp"),
        ({"pair": [1, 2, 3]}, "pair"),
        ({"inner": 3}, "inner"),
        ({"extra": {"a": "b"}}, "extra.a"),
    ],
)
def test_bad_keys_and_values_name_the_dotted_key(data, dotted):
    with pytest.raises(ConfigError) as info:
        from_mapping(OuterConfig, data)
    assert str(info.value).startswith(dotted + ":"), str(info.value)


def test_unknown_key_message_lists_valid_keys():
    with pytest.raises(ConfigError, match="valid keys of inner are kind, lr, milestones"):
        from_mapping(OuterConfig, {"inner": {"lrr": 1.0}})


def test_parse_override_reads_yaml_scalars():
    assert parse_override("optim.lr=0.001") == ("optim.lr", 0.001)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a=[1, 2]") == ("a", [1, 2])
    assert parse_override("a=null") == ("a", None)
    assert parse_override("a=hello") == ("a", "hello")
    for bad in ("novalue", "=3", "a..b=1"):
        with pytest.raises(ConfigError, match="KEY=VALUE"):
            parse_override(bad)


def test_apply_overrides_creates_sections_and_does_not_mutate_input():
    data = {"inner": {"lr": 1.0}}
    patched = apply_overrides(data, ["inner.lr=0.5", "inner.kind=sgd", "seed=3"])
    assert patched == {"inner": {"lr": 0.5, "kind": "sgd"}, "seed": 3}
    assert data == {"inner": {"lr": 1.0}}
    with pytest.raises(ConfigError, match="seed is a value"):
        apply_overrides({"seed": 1}, ["seed.x=1"])


def test_load_config_from_yaml_with_overrides_and_round_trip(tmp_path: Path):
    source = tmp_path / "run.yaml"
    source.write_text(
        "# skeletonmae pretrain --config run.yaml\ninner:\n  lr: 0.01\n  milestones: [1, 2]\nname: demo\n",
        encoding="utf-8",
    )
    cfg = load_config(OuterConfig, source, ["inner.lr=0.001", "amp=true"])
    assert cfg.inner == InnerConfig(lr=0.001, milestones=(1, 2))
    assert cfg.amp is True and cfg.name == "demo"
    out = dump_yaml(cfg, tmp_path / "sub" / "resolved.yaml", header="skeletonmae x --config y")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# skeletonmae x --config y\n")
    assert load_config(OuterConfig, out) == cfg
    assert [p.name for p in out.parent.iterdir()] == ["resolved.yaml"]  # no temp files left


def test_load_config_errors_name_the_file(tmp_path: Path):
    source = tmp_path / "bad.yaml"
    source.write_text("inner:\n  lr: -2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: inner\.lr: must be > 0"):
        load_config(OuterConfig, source)
    with pytest.raises(ConfigError, match="not found"):
        load_config(OuterConfig, tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("inner: [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml line \d+: not valid YAML"):
        read_yaml_mapping(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        read_yaml_mapping(listing)


def test_preset_sections_expand_and_accept_field_overrides():
    presets = {PresetTarget: _net_preset}
    cfg = from_mapping(WithPreset, {"net": {"preset": "small", "depth": 3}}, presets=presets)
    assert cfg.net == PresetTarget(width=8, depth=3)
    with pytest.raises(ConfigError, match=r"^net\.preset: .*unknown preset 'huge'"):
        from_mapping(WithPreset, {"net": {"preset": "huge"}}, presets=presets)
    with pytest.raises(ConfigError, match=r"^net\.preset: unknown key"):
        from_mapping(WithPreset, {"net": {"preset": "small"}})  # no preset function registered


def test_to_plain_gives_yaml_safe_data():
    plain = to_plain(OuterConfig(path=Path("a/b")))
    assert plain["inner"]["milestones"] == [60, 90, 110]
    assert plain["path"] == "a/b"
    assert yaml.safe_load(yaml.safe_dump(plain)) == plain


@dataclasses.dataclass(frozen=True)
class NeedsName:
    name: str
    size: int = 1


def test_missing_required_key_is_named():
    with pytest.raises(ConfigError, match=r"^inner\.name: required key is missing"):
        from_mapping(NeedsName, {"size": 2}, key="inner")
    assert from_mapping(NeedsName, {"name": "x"}) == NeedsName("x")


def test_field_metadata_marks_result_neutral_and_data_bound_settings():
    from skeletonmae.config import marked_fields
    from skeletonmae.experiments.plan import RESULT_NEUTRAL_KEYS
    from skeletonmae.run_config import DATA_BOUND_MODEL_FIELDS, ModelConfig, RunConfig

    assert DATA_BOUND_MODEL_FIELDS == (
        "in_channels",
        "num_frames",
        "num_joints",
        "num_persons",
        "num_classes",
    )
    assert marked_fields(ModelConfig, "result_neutral") == DATA_BOUND_MODEL_FIELDS  # data-bound is neutral
    neutral = set(marked_fields(RunConfig, "result_neutral"))
    assert {
        "output_dir",
        "data.root",
        "finetune.pretrained",
        "training.device",
        "model.num_classes",
    } <= neutral
    assert not neutral & {"mask.frame_ratio", "optim.lr", "training.epochs", "data.label_fraction"}
    assert set(RESULT_NEUTRAL_KEYS) == neutral


def test_overrides_may_be_text_or_typed_pairs_and_name_a_clash():
    from skeletonmae.config import ConfigError, apply_overrides

    data = apply_overrides({"a": {"b": 1}}, ["a.c=0.1", ("a.d", 0.1), ("e.f", "x: y")])
    assert data == {"a": {"b": 1, "c": 0.1, "d": 0.1}, "e": {"f": "x: y"}}
    with pytest.raises(ConfigError, match="a.b is a value, not a section"):
        apply_overrides({"a": {"b": 1}}, ["a.b.c=2"])


def test_removed_settings_load_at_their_kept_value_and_are_refused_otherwise():
    from skeletonmae.run_config import run_config_from_mapping

    old = {"model": {"preset": "cpu-small", "attention_map": "shared"}, "mask": {"encoder_input": "visible"}}
    config = run_config_from_mapping({**old, "output_dir": "runs/x"})
    assert config.mask.frame_ratio == 0.5  # an old run's config still loads
    with pytest.raises(ConfigError, match=r"mask\.frame_unit='tuple' was removed.*delete the key"):
        run_config_from_mapping({**old, "mask": {"frame_unit": "tuple"}, "output_dir": "runs/x"})
