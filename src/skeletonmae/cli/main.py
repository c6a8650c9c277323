"""The `skeletonmae` command: each module of `skeletonmae.cli` has ``register(subparsers)``, which adds
its parser(s) and sets ``func`` (namespace -> exit code). The namespace stops there: command modules
turn it into typed configs before calling the library."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from skeletonmae import __version__
from skeletonmae.cli import demo, embed, export, inspect, predict, prepare, probe, sweep, train, visualize

# In the order their commands appear in --help.
COMMAND_MODULES = (demo, prepare, inspect, train, predict, embed, probe, export, sweep, visualize)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skeletonmae",
        description="SkeletonMAE: masked autoencoders for 3D skeleton action recognition.",
    )
    parser.add_argument("--version", action="version", version=f"skeletonmae {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
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
