"""Argument definitions that several commands share."""

from __future__ import annotations

import argparse

__all__ = ["add_overrides_argument"]


def add_overrides_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option, collected into ``namespace.overrides``."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )
