"""Claims that let several sweep processes share one output root (no training)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skeletonmae.experiments.run_claims import (
    UNKNOWN_PID,
    claim_path,
    claim_run,
    process_start_ticks,
    read_claim_owner,
)


def _write_claim(path: Path, pid: int, host: str | None = None, start: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": time.time(), "start": start})
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_claim_writes_the_owner_and_release_removes_it(tmp_path):
    path = claim_path(tmp_path, "pretrain", "cell")
    assert path == tmp_path / "records" / "pretrain" / "cell.claim"
    claim, owner = claim_run(path)
    assert claim is not None and owner is None
    held = read_claim_owner(path)
    assert held.pid == os.getpid() and held.host == socket.gethostname()
    with claim:
        assert path.is_file()
    assert not path.exists() and read_claim_owner(path) is None


def test_a_live_owner_keeps_its_claim(tmp_path):
    path = claim_path(tmp_path, "finetune", "cell")
    parent = os.getppid()  # alive for the whole test, and not this process
    _write_claim(path, parent, start=process_start_ticks(parent))
    claim, owner = claim_run(path)
    assert claim is None and owner.pid == parent
    assert f"pid {parent}" in owner.describe()


def test_a_claim_from_another_host_is_respected(tmp_path):
    path = claim_path(tmp_path, "pretrain", "cell")
    _write_claim(path, _dead_pid(), host="some-other-node")
    claim, owner = claim_run(path)
    assert claim is None and owner.host == "some-other-node"


def test_a_dead_owners_claim_is_taken_over(tmp_path):
    path = claim_path(tmp_path, "pretrain", "cell")
    _write_claim(path, _dead_pid())
    claim, owner = claim_run(path)
    assert claim is not None and owner is None
    assert read_claim_owner(path).pid == os.getpid()


@pytest.mark.skipif(process_start_ticks(os.getpid()) is None, reason="needs Linux /proc")
def test_a_reused_process_id_does_not_keep_a_claim(tmp_path):
    path = claim_path(tmp_path, "pretrain", "cell")
    parent = os.getppid()  # alive, but started at another time than the recorded owner
    _write_claim(path, parent, start=process_start_ticks(parent) + 1)
    claim, _ = claim_run(path)
    assert claim is not None


def test_an_unreadable_claim_is_held_while_young_and_taken_when_old(tmp_path):
    path = claim_path(tmp_path, "pretrain", "cell")
    path.parent.mkdir(parents=True)
    path.write_text("")  # created, not yet written (or torn by a kill)
    claim, owner = claim_run(path)
    assert claim is None and owner.pid == UNKNOWN_PID
    old = time.time() - 3600
    os.utime(path, (old, old))
    claim, owner = claim_run(path)
    assert claim is not None and owner is None
