"""``skeletonmae inspect FILE [--json]``: frames, bodies, joints and value ranges of a file or dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from skeletonmae.data.describe import describe_path, format_summary
from skeletonmae.data.errors import DataFormatError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="summarise a raw skeleton file or a dataset",
        description="Print frames, bodies, joints and value ranges of a .skeleton / NW-UCLA .json file, "
        "or of a dataset (prepared folder, CTR-GCN .npz, ST-GCN .npy, pyskl .pkl, generic .npz).",
    )
    parser.add_argument("path", type=Path, metavar="FILE", help="file or dataset folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        summary = describe_path(args.path)
    except (DataFormatError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
