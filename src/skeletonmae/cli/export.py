"""``skeletonmae export CHECKPOINT --format onnx|torchscript|safetensors``.

``onnx`` / ``torchscript``: a classifier for other runtimes. ``safetensors``: the weights of any
checkpoint (a pre-training's encoder and decoder included) without optimiser state, with the run's
config and data facts as metadata; every command that takes a checkpoint reads it (how releases
are made, ``skeletonmae.released``).

The exported model takes ``(N, C, T, V, M)`` float32 skeletons (already preprocessed: centred,
test-transformed to ``T`` frames; ``N`` is free) and returns ``(N, K)`` logits. A sidecar
``<file>.json`` records the class names, layout, input shape and the test-transform settings.
After exporting, the file is run (ONNX Runtime or torch.jit) against PyTorch on ``--check`` inputs
(real skeleton files), or on a fixed random batch, and the largest difference is reported.

Exit codes: 0 exported (and parity held, or could not be checked for lack of onnxruntime);
1 parity failed; 2 the checkpoint, an input or an optional dependency is missing or bad.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["register", "run_export", "default_output"]

SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt", "safetensors": ".safetensors"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a classifier to ONNX or TorchScript",
        description="Export a finetune / linear checkpoint as a model taking (N, C, T, V, M) "
        "skeletons and returning logits, then check it against PyTorch.",
    )
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="best.pt of a finetune / linear run")
    parser.add_argument(
        "--format",
        required=True,
        choices=tuple(SUFFIXES),
        dest="fmt",
        help="onnx (needs `pip install -e .[onnx]`), torchscript, or safetensors (the weights "
        "of any checkpoint, for sharing)",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="output file (default: beside the checkpoint, e.g. best.onnx)"
    )
    parser.add_argument(
        "--check",
        nargs="+",
        metavar="INPUT",
        default=None,
        help="skeleton files / folders to compare the export with PyTorch on (default: a fixed random batch)",
    )
    parser.set_defaults(func=run_export)


def default_output(checkpoint: str | Path, fmt: str) -> Path:
    """``runs/x/best.pt`` -> ``runs/x/best.onnx`` / ``runs/x/best.torchscript.pt``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + SUFFIXES[fmt])


def _check_inputs(predictor, paths: list[str] | None):
    """Model-ready ``(N, C, T, V, M)`` tensor of the ``--check`` inputs (or a random batch)."""
    from skeletonmae.inference.export import example_input
    from skeletonmae.inference.predictor import InputsFailedError
    from skeletonmae.inference.preprocess import apply_test_transform

    if not paths:
        return example_input(predictor.model.classifier, seed=1), "fixed random batch"
    _, arrays, failures = predictor.prepare(paths)
    if failures:
        raise InputsFailedError(failures)
    model = predictor.model
    batch = apply_test_transform(arrays, model.transform, model.layout, model.channels, model.normalization)
    return batch, f"{len(arrays)} input sequence(s)"


def run_export(args: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae export``; returns the exit code."""
    from skeletonmae.checkpoints import CheckpointError
    from skeletonmae.inference import export as exporting
    from skeletonmae.inference.predictor import load

    out = Path(args.out) if args.out else default_output(args.checkpoint, args.fmt)
    if args.fmt == "safetensors":
        return _export_weights(args.checkpoint, out)
    try:
        predictor = load(args.checkpoint)
        model = predictor.model
        if not model.has_head:
            raise ValueError(
                f"{args.checkpoint}: a {model.stage} checkpoint has no trained "
                "classifier head to export; export the best.pt of a finetune / "
                "linear run"
            )
        check_x, check_source = _check_inputs(predictor, args.check)
        exporting.export_classifier(model.classifier, out, args.fmt)
    except (CheckpointError, ValueError, ImportError, OSError) as error:
        print(f"skeletonmae export: {error}", file=sys.stderr)
        return 2
    parity = None
    if args.fmt == "torchscript" or exporting.onnx_runtime_available():
        parity = exporting.check_parity(model.classifier, out, args.fmt, check_x)
    _write_sidecar(exporting, out, args, model, parity, check_source)
    print(f"exported {args.fmt} -> {out} (description in {out}.json)")
    if parity is None:
        print("parity not checked: onnxruntime is not installed (pip install -e .[onnx])")
        return 0
    verdict = "OK" if parity.ok else "FAILED"
    print(
        f"parity {verdict} on {check_source}: max |exported - PyTorch| = "
        f"{parity.max_abs_diff:.3g} (largest logit {parity.max_abs_logit:.3g})"
    )
    return 0 if parity.ok else 1


def _export_weights(checkpoint: str, out: Path) -> int:
    """Write and re-read the weights file; exit 1 when a tensor does not come back equal."""
    import torch

    from skeletonmae.checkpoints import CheckpointError, load_checkpoint, save_weights_file

    try:
        payload = load_checkpoint(checkpoint)
        save_weights_file(out, payload)
        again = load_checkpoint(out)
    except (CheckpointError, OSError) as error:
        print(f"skeletonmae export: {error}", file=sys.stderr)
        return 2
    same = payload["model"].keys() == again["model"].keys() and all(
        torch.equal(payload["model"][k], again["model"][k]) for k in payload["model"]
    )
    count = sum(t.numel() for t in again["model"].values())
    print(f"exported the {payload.get('stage')} weights ({count:,} values) -> {out}")
    print("re-read: " + ("every tensor equal" if same else "TENSORS DIFFER"))
    return 0 if same else 1


def _write_sidecar(exporting, out: Path, args: argparse.Namespace, model, parity, check_source: str) -> None:
    import dataclasses

    cfg = model.model_config
    exporting.write_sidecar(
        out,
        {
            "format": args.fmt,
            "checkpoint": str(args.checkpoint),
            "stage": model.stage,
            "input": {
                "name": exporting.INPUT_NAME,
                "layout": "(N, C, T, V, M)",
                "shape": ["N", cfg.in_channels, cfg.num_frames, cfg.num_joints, cfg.num_persons],
                "dtype": "float32",
            },
            "output": {
                "name": exporting.OUTPUT_NAME,
                "shape": ["N", cfg.num_classes],
                "meaning": "logits; softmax gives probabilities",
            },
            "class_names": list(model.class_names),
            "layout": model.layout.name,
            "test_transform": dataclasses.asdict(model.transform),
            "persons": "all-zero persons are absent: computed, but left out of the pooling",
            "parity": None
            if parity is None
            else {**dataclasses.asdict(parity), "ok": parity.ok, "inputs": check_source},
        },
    )
