"""The `skeletonmae` command: one sub-command per module in `skeletonmae.cli`.

Each command module exposes ``register(subparsers)``, which adds its parser(s) and sets
``func`` (a callable taking the parsed namespace and returning an exit code). The
namespace stops here: command modules turn it into typed configs before calling the library.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from skeletonmae import __version__

# Module names under skeletonmae.cli, in the order their commands appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "prepare",
    "inspect",
    "train",
    "predict",
    "embed",
    "probe",
    "export",
    "sweep",
    "visualize",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skeletonmae",
        description="SkeletonMAE: masked autoencoders for 3D skeleton action recognition.",
    )
    parser.add_argument("--version", action="version", version=f"skeletonmae {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"skeletonmae.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
