"""Kill a training process hard from outside the library: a prelude for ``python -c`` children
that wraps the epoch loop's optimiser step and SIGKILLs the process right after global step
``KILL_AFTER_STEP`` (environment), before that step's checkpoint is considered."""

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
