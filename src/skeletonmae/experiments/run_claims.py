"""Claims on sweep runs, so that several ``skeletonmae sweep`` processes can share one output root.

Before a sweep trains a run it creates ``records/<stage>/<name>.claim`` with ``O_EXCL`` (atomic
on a local file system), holding the owner's process id and host. A second process that finds the
claim skips that run (and the fine-tunings waiting on it) and goes on with the next free cell, so
``skeletonmae sweep SPEC`` started once per core or per GPU shares the grid out. The claim is
removed when the run ends, however it ends. A claim left by a killed process is taken over when
its process is gone (same host); a claim from another host is respected until its file is deleted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from pathlib import Path

__all__ = [
    "ClaimOwner",
    "RunClaim",
    "claim_path",
    "claim_run",
    "read_claim_owner",
    "claim_is_stale",
    "process_start_ticks",
]

CLAIM_SUFFIX = ".claim"
UNKNOWN_PID = -1  # a claim file that cannot be read
UNREADABLE_GRACE_SECONDS = 30.0  # an unreadable claim younger than this may be mid-write


@dataclasses.dataclass(frozen=True)
class ClaimOwner:
    """Who holds a claim: process id, host name, when it was taken (Unix time) and the
    process's start time in clock ticks (Linux ``/proc``; None elsewhere), which tells a live
    owner from an unrelated process that got the same id later."""

    pid: int
    host: str
    since: float
    start: int | None = None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def claim_path(output_root: Path, stage: str, name: str) -> Path:
    """``output_root/records/<stage>/<name>.claim``."""
    return Path(output_root) / "records" / stage / f"{name}{CLAIM_SUFFIX}"


def read_claim_owner(path: Path) -> ClaimOwner | None:
    """The owner written in ``path``; None if there is no claim. A claim file that cannot be
    parsed reads as owned by :data:`UNKNOWN_PID` since its modification time."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        start = data.get("start")
        return ClaimOwner(
            int(data["pid"]), str(data["host"]), float(data["since"]), None if start is None else int(start)
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # empty or torn: owner unknown since its mtime
        try:
            return ClaimOwner(UNKNOWN_PID, socket.gethostname(), Path(path).stat().st_mtime)
        except FileNotFoundError:
            return None


def process_start_ticks(pid: int) -> int | None:
    """Start time of process ``pid`` since boot, in clock ticks; None without Linux ``/proc``
    or when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (command) "; field 22 is index 19
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def claim_is_stale(owner: ClaimOwner) -> bool:
    """True when the owner is known to be gone: same host, and its process no longer runs (or
    its id now belongs to a process started at another time, this one included)."""
    if owner.host != socket.gethostname():
        return False
    if owner.pid == UNKNOWN_PID:  # being written right now, or torn by a kill long ago
        return time.time() - owner.since > UNREADABLE_GRACE_SECONDS
    if owner.pid == os.getpid() or not _process_alive(owner.pid):
        return True
    return owner.start is not None and process_start_ticks(owner.pid) != owner.start


class RunClaim:
    """A held claim; a context manager that removes the claim file on exit."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def release(self) -> None:
        owner = read_claim_owner(self.path)
        if owner is not None and owner.pid == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _create(path: Path) -> bool:
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.time(),
        "start": process_start_ticks(os.getpid()),
    }
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(owner) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return True


def claim_run(path: Path) -> tuple[RunClaim | None, ClaimOwner | None]:
    """Try to claim a run: ``(claim, None)`` when this process now holds it, ``(None, owner)``
    when another live process does. A stale claim (its process gone) is taken over."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        if _create(path):
            return RunClaim(path), None
        owner = read_claim_owner(path)
        if owner is None:  # released between our attempt and the read: try again
            continue
        if not claim_is_stale(owner):
            return None, owner
        path.unlink(missing_ok=True)  # its process is gone: take it over
    if _create(path):
        return RunClaim(path), None
    return None, read_claim_owner(path)
