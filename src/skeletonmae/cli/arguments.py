"""Argument definitions and error reporting that several commands share."""

from __future__ import annotations

import argparse
import logging
import sys

logger = logging.getLogger(__name__)

# Exceptions that are the user's to fix (bad config or option, missing file, diverged run): one
# clear line (the traceback with -v) and exit code 2 instead of a traceback.
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, RuntimeError, FloatingPointError)


def add_overrides_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option, collected into ``namespace.overrides``."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def add_device_arguments(parser: argparse.ArgumentParser, batch_size: int) -> None:
    """``--batch-size`` (samples per forward pass) and ``--device``."""
    parser.add_argument("--batch-size", type=int, default=batch_size, help="samples per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")


def print_error(command: str, error: BaseException | str) -> int:
    """``skeletonmae COMMAND: error`` on stderr; returns the exit code 2."""
    print(f"skeletonmae {command}: {error}", file=sys.stderr)
    return 2


def input_error(error: BaseException | str) -> int:
    """``error: ...`` on stderr; returns the exit code 1 (prepare, inspect: a bad file or setting)."""
    print(f"error: {error}", file=sys.stderr)
    return 1


def log_error(command: str, error: BaseException) -> int:
    """Log ``COMMAND failed: error`` (the traceback at debug level, shown with -v); returns 2."""
    logger.debug("%s failed", command, exc_info=error)
    message = error.args[0] if isinstance(error, KeyError) and error.args else error  # not its repr
    logger.error("%s failed: %s", command, message)
    return 2
