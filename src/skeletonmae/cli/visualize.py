"""``skeletonmae visualize CHECKPOINT --sample S``: original, masked input and reconstruction.

    skeletonmae visualize runs/pretrain/best.pt --sample 12
    skeletonmae visualize runs/pretrain/best.pt --sample a01_s01_e00_v03 --seed 3 --gif-frames 40
    skeletonmae visualize runs/pretrain/best.pt --sample 0 --set mask.frame_ratio=0.6

Loads a pre-training checkpoint, takes the sample (an index or a name) from the prepared dataset
of its config (``--data-root`` / ``--split`` to change), masks it with the checkpoint's masking
and ``--seed``, reconstructs it and writes a PNG (``--frames`` evenly spaced frames), a GIF
(``--gif-frames`` frames) and the per-joint error heat map into ``--output-dir``
(default: ``visualize/`` beside the checkpoint).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from skeletonmae.cli.arguments import add_overrides_argument

logger = logging.getLogger(__name__)

__all__ = ["positive_int", "register", "visualize_command", "visualize_overrides"]


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
    parser.add_argument(
        "--frames", type=positive_int, default=6, help="frames in the PNG, evenly spaced (default 6)"
    )
    parser.add_argument(
        "--gif-frames",
        type=positive_int,
        default=24,
        help="frames in the GIF, evenly spaced (default 24; at most the model's frame count)",
    )
    parser.add_argument("--fps", type=positive_int, default=8, help="GIF frames per second (default 8)")
    parser.add_argument("--output-dir", type=Path, help="where to write the images")
    add_overrides_argument(
        parser,
        "override the checkpoint's config, e.g. mask.frame_ratio=0.6",
    )
    parser.set_defaults(func=visualize_command)


def visualize_overrides(namespace: argparse.Namespace) -> list[str]:
    """``--set`` plus ``--data-root`` / ``--split`` as config overrides."""
    overrides = list(namespace.overrides)
    if namespace.data_root is not None:
        overrides.append(f"data.root={json.dumps(str(namespace.data_root))}")
    if namespace.split is not None:
        overrides.append(f"data.test_split={json.dumps(namespace.split)}")
    return overrides


def visualize_command(namespace: argparse.Namespace) -> int:
    """Entry point of ``skeletonmae visualize``; 2 for a bad checkpoint, sample or setting."""
    from skeletonmae.inference.reconstruction import visualize_reconstruction

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
    except (ValueError, FileNotFoundError, KeyError, IndexError, RuntimeError) as error:
        logger.debug("visualize failed", exc_info=error)
        # str(KeyError) is the repr of its message; log the message itself.
        logger.error(
            "visualize failed: %s", error.args[0] if isinstance(error, KeyError) and error.args else error
        )
        return 2
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
