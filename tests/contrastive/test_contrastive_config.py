"""Contrastive configs: the papers' defaults, validation naming the field, YAML round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from skeletonmae.config import ConfigError, dump_yaml_text, load_config
from skeletonmae.run_config import AugmentationConfig, ContrastiveConfig, load_run_config


def test_defaults_are_the_papers() -> None:
    config = ContrastiveConfig()
    assert (config.queue_size, config.momentum, config.temperature, config.projection_dim) == (
        32768,
        0.999,
        0.07,
        128,
    )
    assert config.mlp_projection and config.topk == 1 and config.mining_start_epoch == 150
    assert config.views == ("joint", "motion", "bone") and config.cross_view_context
    aug = config.augmentation
    assert (aug.shear_amplitude, aug.temporal_padding_ratio, aug.temporal_crop) == (0.5, 6, "pad")
    assert (aug.noise_std, aug.blur_kernel, aug.blur_sigma_min, aug.blur_sigma_max) == (0.01, 15, 0.1, 2.0)
    assert (aug.rotate_main_max_degrees, aug.rotate_minor_max_degrees) == (30.0, 1.0)
    assert config.attention_drop.threshold == 0.7


def test_model_views_per_method() -> None:
    assert ContrastiveConfig(method="crossclr").model_views == ("joint", "motion", "bone")
    assert ContrastiveConfig(method="aimclr").model_views == ("joint",)
    assert ContrastiveConfig(method="aimclr", export_view="bone").model_views == ("bone",)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"method": "simclr"}, "method"),
        ({"momentum": 1.0}, "momentum"),
        ({"queue_size": 0}, "queue_size"),
        ({"topk": 40000}, "topk"),
        ({"views": ("joint", "joint")}, "views"),
        ({"method": "crossclr", "views": ("joint",)}, "views"),
        ({"views": ("joint", "motion"), "export_view": "bone"}, "export_view"),
    ],
)
def test_bad_values_name_the_field(overrides, field) -> None:
    with pytest.raises(ValueError, match=field):
        ContrastiveConfig(**overrides)


def test_bad_augmentation_values_name_the_field() -> None:
    with pytest.raises(ValueError, match="blur_kernel"):
        AugmentationConfig(blur_kernel=4)
    with pytest.raises(ValueError, match="temporal_crop"):
        AugmentationConfig(temporal_crop="random")  # type: ignore[arg-type]


def test_yaml_round_trip_and_dotted_errors(tmp_path) -> None:
    config = ContrastiveConfig(method="crossclr", views=("joint", "motion"), topk=2)
    path = tmp_path / "c.yaml"
    path.write_text(dump_yaml_text(config))
    assert load_config(ContrastiveConfig, path) == config
    with pytest.raises(ConfigError, match="augmentation.noise_prob"):
        load_config(ContrastiveConfig, overrides=["augmentation.noise_prob=2"])
    with pytest.raises(ConfigError, match="augmentation.nois_std: unknown key"):
        load_config(ContrastiveConfig, overrides=["augmentation.nois_std=0.1"])


CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "contrastive"


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load_and_start_with_their_command(path: Path) -> None:
    config, _ = load_run_config(path)
    first_line = path.read_text().splitlines()[0]
    assert first_line == (
        f"# skeletonmae pretrain --method {config.contrastive.method} "
        f"--config configs/contrastive/{path.name}"
    )
    assert config.contrastive.queue_size <= (512 if path.name.startswith("nw-ucla") else 32768)
    assert config.contrastive.mining_start_epoch == config.training.epochs // 2


def test_there_are_cpu_and_paper_scale_configs_for_both_methods() -> None:
    names = {p.name for p in CONFIG_DIR.glob("*.yaml")}
    assert {
        "nw-ucla-aimclr.yaml",
        "nw-ucla-crossclr.yaml",
        "ntu60-xsub-aimclr.yaml",
        "ntu60-xsub-crossclr.yaml",
    } <= names
