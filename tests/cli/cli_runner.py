"""Run ``skeletonmae`` commands in-process through the real entry point."""

from __future__ import annotations

from skeletonmae.cli.main import main


def run_cli(argv: list[str], capsys=None):
    """``main(argv)``; with ``capsys``, returns ``(exit code, stdout, stderr)``, else the code."""
    code = main([str(a) for a in argv])
    if capsys is None:
        return code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
