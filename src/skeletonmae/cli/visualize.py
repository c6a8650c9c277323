"""``skeletonmae visualize CHECKPOINT --sample S``: original, masked input and reconstruction of one
sample (:mod:`skeletonmae.inference.reconstruction`; docs/experiments.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletonmae.cli.arguments import USER_ERRORS, add_overrides_argument, log_error
from skeletonmae.config import Override
from skeletonmae.inference.reconstruction import visualize_reconstruction


def positive_int(text: str) -> int:
    """argparse type of a count or rate that must be >= 1 (argparse names the option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1), got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``visualize`` command."""
    text = "draw a checkpoint's reconstruction of one sample: PNG, GIF and error heat map"
    parser = subparsers.add_parser("visualize", help=text, description=text)
    parser.add_argument(
        "checkpoint", type=Path, metavar="CHECKPOINT", help="best.pt or last.pt of a pretrain run"
    )
    parser.add_argument("--sample", required=True, help="sample index in the split, or its name (names.json)")
    parser.add_argument(
        "--data-root", type=Path, help="prepared dataset (default: the checkpoint's data.root)"
    )
    parser.add_argument("--split", help="split folder (default: the checkpoint's data.test_split)")
    parser.add_argument("--seed", type=int, default=0, help="masking seed (default 0)")
    parser.add_argument("--person", type=int, default=0, help="person slot to draw (default 0)")
    parser.add_argument("--frames", type=positive_int, default=6, help="frames in the PNG, evenly spaced (6)")
    parser.add_argument(
        "--gif-frames", type=positive_int, default=24, help="frames in the GIF, at most T (24)"
    )
    parser.add_argument("--fps", type=positive_int, default=8, help="GIF frames per second (default 8)")
    parser.add_argument("--output-dir", type=Path, help="where to write the images")
    add_overrides_argument(parser, "override the checkpoint's config, e.g. mask.frame_ratio=0.6")
    parser.set_defaults(func=visualize_command)


def visualize_overrides(namespace: argparse.Namespace) -> list[Override]:
    """``--set`` plus ``--data-root`` / ``--split`` as typed config overrides."""
    overrides: list[Override] = list(namespace.overrides)
    if namespace.data_root is not None:
        overrides.append(("data.root", str(namespace.data_root)))
    if namespace.split is not None:
        overrides.append(("data.test_split", namespace.split))
    return overrides


def visualize_command(namespace: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae visualize``; 2 for a bad checkpoint, sample or setting."""
    try:
        files = visualize_reconstruction(
            namespace.checkpoint,
            namespace.sample,
            output_dir=namespace.output_dir,
            seed=namespace.seed,
            person=namespace.person,
            png_frames=namespace.frames,
            gif_frames=namespace.gif_frames,
            fps=namespace.fps,
            overrides=visualize_overrides(namespace),
        )
    except (*USER_ERRORS, KeyError, IndexError) as error:
        return log_error("visualize", error)
    sample = files.sample
    print(
        f"{sample.name} ({sample.class_name}): MSE on masked joints {sample.masked_mse:.4g}, "
        f"on visible joints {sample.visible_mse:.4g}"
    )
    print(
        f"png: {files.png}\ngif: {files.gif} ({len(files.frames_gif)} frames)\n"
        f"error heat map: {files.heatmap}"
    )
    return 0
