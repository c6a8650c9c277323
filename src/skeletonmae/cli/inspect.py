"""``skeletonmae inspect FILE | --model PRESET [--set KEY=VALUE]``: a file, a dataset or a model preset.

Exit codes: 1 when FILE cannot be read; 2 a bad option or override.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from skeletonmae.cli.arguments import add_overrides_argument, input_error, print_error
from skeletonmae.config import ConfigError, from_mapping, parse_override
from skeletonmae.data.describe import describe_path, format_summary
from skeletonmae.data.errors import DataFormatError
from skeletonmae.models.cost import ModelCost, measure_model_cost
from skeletonmae.run_config import PRESET_NAMES, MaskConfig, ModelConfig, preset

_MODEL_FIELDS = tuple(f.name for f in dataclasses.fields(ModelConfig))
_MASK_FIELDS = tuple(f.name for f in dataclasses.fields(MaskConfig))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="summarise a raw skeleton file, a dataset, or a model preset",
        description="FILE: print frames, bodies, joints and value ranges of a .skeleton / NW-UCLA .json "
        "file, or of a dataset (prepared folder, CTR-GCN .npz, ST-GCN .npy, pyskl .pkl, generic .npz). "
        "--model PRESET: print the parameters and forward GFLOPs per sample (all persons present) of the "
        "classifier, the encoder at the configured masking, the decoder and the faithful STTFormer.",
    )
    parser.add_argument("path", type=Path, nargs="?", metavar="FILE", help="file or dataset folder")
    parser.add_argument(
        "--model", "--preset", dest="model", choices=PRESET_NAMES, help="a model preset instead of FILE"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_overrides_argument(
        parser,
        "with --model: a model or mask field (values as YAML), e.g. decoder_width=128, mask.frame_ratio=0.4",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae inspect``; returns the exit code."""
    if (args.path is None) == (args.model is None):
        return print_error("inspect", "pass FILE or --model PRESET (one of them)")
    if args.model is not None:
        return _run_model(args.model, args.overrides, args.json)
    if args.overrides:
        return print_error("inspect", "--set overrides a model preset; pass --model PRESET")
    return _run_path(args.path, args.json)


def _run_path(path: Path, as_json: bool) -> int:
    try:
        summary = describe_path(path)
    except (DataFormatError, FileNotFoundError, ValueError) as error:
        return input_error(error)
    print(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    return 0


def _run_model(name: str, overrides: Sequence[str], as_json: bool) -> int:
    try:
        model, mask = resolve_configs(name, overrides)
        cost = measure_model_cost(model, mask)
    except ValueError as error:  # ConfigError is a ValueError
        return print_error("inspect", error)
    if as_json:
        configs = {"model": dataclasses.asdict(model), "mask": dataclasses.asdict(mask)}
        print(json.dumps({"preset": name, **cost.to_dict(), **configs}, indent=2))
    else:
        print(format_cost_table(name, model, mask, cost))
    return 0


def resolve_configs(preset_name: str, overrides: Sequence[str] = ()) -> tuple[ModelConfig, MaskConfig]:
    """The preset's ModelConfig and the default MaskConfig with ``KEY=VALUE`` overrides applied (a
    bare KEY is a model field, else a mask field; ``model.KEY`` / ``mask.KEY`` say which); raises
    ConfigError naming a bad key or value."""
    sections: dict[str, dict] = {"model": {"preset": preset_name}, "mask": {}}
    for item in overrides:
        key, value = parse_override(item)
        section, _, name = key.rpartition(".")
        if not section:
            in_model, in_mask = name in _MODEL_FIELDS, name in _MASK_FIELDS
            if not (in_model or in_mask):
                raise ConfigError(
                    f"--set {item!r}: unknown key {name!r}; model keys: "
                    f"{', '.join(_MODEL_FIELDS)}; mask keys: {', '.join(_MASK_FIELDS)}"
                )
            section = "model" if in_model else "mask"
        if section not in sections:
            raise ConfigError(f"--set {item!r}: unknown section {section!r}; use model.KEY or mask.KEY")
        sections[section][name] = value
    model = from_mapping(ModelConfig, sections["model"], key="model", presets={ModelConfig: preset})
    mask = from_mapping(MaskConfig, sections["mask"], key="mask")
    return model, mask


def format_cost_table(name: str, model: ModelConfig, mask: MaskConfig, cost: ModelCost) -> str:
    """Human-readable summary of :class:`ModelCost`."""
    rows = [
        ("classifier (encoder + head)", cost.classifier_params, cost.classifier_gflops),
        ("encoder, full grid", cost.encoder_params, cost.encoder_full_gflops),
        ("encoder, visible tokens", cost.encoder_params, cost.encoder_gflops),
        (
            f"decoder ({model.decoder_width} x {model.decoder_depth})",
            cost.decoder_params,
            cost.decoder_gflops,
        ),
        ("MAE pre-training (enc + dec)", cost.mae_params, cost.mae_gflops),
        ("faithful STTFormer (reference)", cost.sttformer_params, cost.sttformer_gflops),
    ]
    lines = [
        f"preset {name}: {model.num_frames} frames x {model.num_joints} joints x "
        f"{model.num_persons} person(s), tuples of {model.tuple_len}, {model.num_classes} classes",
        f"masking: frame_ratio={mask.frame_ratio} joint_ratio={mask.joint_ratio} "
        f"{mask.strategy}; visible {cost.visible_frames} frames x {cost.visible_joints} joints "
        f"= {100 * cost.visible_fraction:.1f} % of tokens",
        f"{'part':<32}{'parameters':>14}{'GFLOPs/sample':>16}",
    ]
    lines += [f"{label:<32}{params:>14,}{gflops:>16.3f}" for label, params, gflops in rows]
    lines.append(f"(GFLOPs: forward, {model.num_persons} person(s) present, multiply-add = 2)")
    return "\n".join(lines)
