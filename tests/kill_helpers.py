"""Processes in tests: killed on purpose, and never left running.

- ``KILL_PRELUDE``: a prelude for ``python -c`` children that wraps the epoch loop's optimiser step
  and SIGKILLs the process right after global step ``KILL_AFTER_STEP`` (environment), before that
  step's checkpoint is considered.
- :func:`run_all_or_kill`: run commands side by side, each in its own session; if they have not all
  finished by the deadline, kill every process group (workers included) and fail the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

KILL_AFTER_STEP_ENV = "KILL_AFTER_STEP"

KILL_PRELUDE = """
import os as _os
import signal as _signal

from skeletonmae.training import engine as _engine

_original_step = _engine.Trainer.optimizer_step


def _step_then_maybe_die(self, batches, meter):
    _original_step(self, batches, meter)
    if self.state.global_step == int(_os.environ["KILL_AFTER_STEP"]):
        _os.kill(_os.getpid(), _signal.SIGKILL)


_engine.Trainer.optimizer_step = _step_then_maybe_die
"""


def run_all_or_kill(
    commands: list[list[str]], timeout: float, env: dict | None = None
) -> list[tuple[int, str]]:
    """``(returncode, output)`` of each command (stdout and stderr together), run at once; on
    timeout every process group is killed and the test fails with the tails of their output."""
    processes = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        for command in commands
    ]
    deadline = time.monotonic() + timeout
    results = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            results.append((process.returncode, output))
    except subprocess.TimeoutExpired:
        tails = []
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            tails.append(process.communicate()[0][-1500:])
        pytest.fail(f"processes did not finish in {timeout} s and were killed:\n" + "\n---\n".join(tails))
    return results
