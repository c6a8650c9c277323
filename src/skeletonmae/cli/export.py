"""``skeletonmae export CHECKPOINT --format onnx|safetensors`` (docs/inference.md).

Exit codes: 0 exported (and parity held, or could not be checked for lack of onnxruntime);
1 parity failed; 2 the checkpoint, an input or an optional dependency is missing or bad.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from skeletonmae.atomic import write_json_atomic
from skeletonmae.checkpoints import CheckpointError, load_checkpoint, save_weights_file
from skeletonmae.cli.arguments import print_error
from skeletonmae.inference import export as exporting
from skeletonmae.inference.export import INPUT_NAME, OUTPUT_NAME
from skeletonmae.inference.predictor import load

SUFFIXES = {"onnx": ".onnx", "safetensors": ".safetensors"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a classifier to ONNX, or any checkpoint's weights to safetensors",
        description="Export a finetune / linear checkpoint as a model taking (N, C, T, V, M) skeletons and "
        "returning logits, then check it against PyTorch; or any checkpoint's weights as safetensors.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of a finetune / linear run")
    parser.add_argument(
        "--format",
        required=True,
        choices=tuple(SUFFIXES),
        dest="fmt",
        help="onnx (needs `pip install -e .[onnx]`) or safetensors (any checkpoint's weights)",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="output file (default: beside the checkpoint, e.g. best.onnx)"
    )
    parser.add_argument(
        "--check",
        nargs="+",
        metavar="INPUT",
        help="skeleton files / folders to compare the export with PyTorch on (default: a fixed random batch)",
    )
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae export``; returns the exit code."""
    checkpoint = Path(args.checkpoint)
    out = Path(args.out) if args.out else checkpoint.with_name(checkpoint.stem + SUFFIXES[args.fmt])
    if args.fmt == "safetensors":
        return _export_weights(args.checkpoint, out)
    try:
        predictor = load(args.checkpoint)
        model = predictor.model
        if not model.has_head:
            raise ValueError(
                f"{args.checkpoint}: a {model.stage} checkpoint has no trained classifier head to "
                "export; export the best.pt of a finetune / linear run"
            )
        if args.check:
            x = predictor.model_input(predictor.checked_arrays(args.check))
            inputs = f"{len(x)} input sequence(s)"
        else:
            x, inputs = exporting.example_input(model.classifier, seed=1), "fixed random batch"
        exporting.export_onnx(model.classifier, out, exporting.example_input(model.classifier))
    except (CheckpointError, ValueError, ImportError, OSError) as error:
        return print_error("export", error)
    parity = None
    if exporting.onnx_runtime_available():
        parity = exporting.check_parity(model.classifier, out, x)
    write_json_atomic(Path(f"{out}.json"), _sidecar(args, model, parity, inputs))
    print(f"exported {args.fmt} -> {out} (description in {out}.json)")
    if parity is None:
        print("parity not checked: onnxruntime is not installed (pip install -e .[onnx])")
        return 0
    print(
        f"parity {'OK' if parity.ok else 'FAILED'} on {inputs}: max |exported - PyTorch| = "
        f"{parity.max_abs_diff:.3g} (largest logit {parity.max_abs_logit:.3g})"
    )
    return 0 if parity.ok else 1


def _export_weights(checkpoint: str, out: Path) -> int:
    """Write and re-read the weights file; exit 1 when a tensor does not come back equal."""

    try:
        payload = load_checkpoint(checkpoint)
        save_weights_file(out, payload)
        again = load_checkpoint(out)
    except (CheckpointError, OSError) as error:
        return print_error("export", error)
    same = payload["model"].keys() == again["model"].keys() and all(
        torch.equal(payload["model"][k], again["model"][k]) for k in payload["model"]
    )
    count = sum(t.numel() for t in again["model"].values())
    print(f"exported the {payload.get('stage')} weights ({count:,} values) -> {out}")
    print("re-read: " + ("every tensor equal" if same else "TENSORS DIFFER"))
    return 0 if same else 1


def _sidecar(args: argparse.Namespace, model, parity, inputs: str) -> dict:
    """What a runtime without PyTorch needs to prepare inputs and name predictions."""
    cfg = model.model_config
    return {
        "format": args.fmt,
        "checkpoint": str(args.checkpoint),
        "stage": model.stage,
        "input": {
            "name": INPUT_NAME,
            "layout": "(N, C, T, V, M)",
            "shape": ["N", cfg.in_channels, cfg.num_frames, cfg.num_joints, cfg.num_persons],
            "dtype": "float32",
        },
        "output": {
            "name": OUTPUT_NAME,
            "shape": ["N", cfg.num_classes],
            "meaning": "logits; softmax gives probabilities",
        },
        "class_names": list(model.class_names),
        "layout": model.layout.name,
        "test_transform": dataclasses.asdict(model.transform),
        "persons": "all-zero persons are absent: computed, but left out of the pooling",
        "parity": None
        if parity is None
        else {**dataclasses.asdict(parity), "ok": parity.ok, "inputs": inputs},
    }
