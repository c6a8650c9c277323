"""Raw files -> cached shards of prepared samples, in parallel (a process pool, or inline) and
resumable: a shard is an ``.npz`` saved atomically under a fingerprint of its inputs (names, sizes,
mtimes) and settings. It holds per sample ``names`` / ``labels`` / ``lengths`` / ``offsets``,
``joints`` ``(C, sum T, V, M)`` (concatenated in time), ``skipped_names`` / ``skipped_reasons`` and
``dropped`` (a JSON count of denoising removals).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from skeletonmae.atomic import save_npz_atomic
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.nw_ucla import centered_sample, read_nw_ucla_file
from skeletonmae.data.ntu_preprocess import PreprocessConfig, preprocess_skeleton
from skeletonmae.data.ntu_raw import parse_skeleton_file
from skeletonmae.data.splits import parse_ntu_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampleSettings:
    """What a worker needs to turn one file into a sample."""

    kind: str  # "ntu" or "nw-ucla"
    preprocess: PreprocessConfig = PreprocessConfig()
    max_frames: int | None = 300
    center_joint: int = 1


@dataclass(frozen=True)
class ShardJob:
    path: Path
    files: tuple[tuple[str, str], ...]  # (sample name, file path)
    settings: SampleSettings


@dataclass(frozen=True)
class ShardContent:
    names: list[str]
    labels: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    joints: np.ndarray  # (C, sum T, V, M)
    skipped: list[tuple[str, str]]  # (name, reason)
    dropped: dict[str, int]

    def sample(self, row: int) -> np.ndarray:
        """``(C, T, V, M)`` joints of the ``row``-th sample of the shard."""
        start = int(self.offsets[row])
        return self.joints[:, start : start + int(self.lengths[row])]


def read_sample(path: str, settings: SampleSettings) -> tuple[np.ndarray, int, list[str]]:
    """One raw file -> ``(joints (C, T, V, M), 0-based label, denoising drop reasons)``."""
    if settings.kind == "ntu":
        label = parse_ntu_name(Path(path).name, source=path).label
        sample = preprocess_skeleton(parse_skeleton_file(path), settings.preprocess)
        joints, reasons = sample.joints, [reason for _, reason in sample.dropped]
    else:
        sequence = read_nw_ucla_file(path)
        joints, label, reasons = centered_sample(sequence, settings.center_joint), sequence.label, []
    if settings.max_frames is not None and joints.shape[1] > settings.max_frames:
        raise DataFormatError(
            path,
            f"{joints.shape[1]} valid frames, more than max_frames={settings.max_frames}; raise max_frames",
        )
    return joints, label, reasons


def fingerprint(files: Sequence[tuple[str, str]], settings: SampleSettings) -> str:
    """Hash of the inputs of a shard: names, sizes, mtimes and settings."""
    digest = hashlib.sha1(json.dumps(asdict(settings), sort_keys=True, default=str).encode())
    for name, path in files:
        stat = Path(path).stat()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def run_shard(job: ShardJob) -> int:
    """Convert the files of ``job`` (recording bad ones) into its shard; returns the file count."""
    names, labels, lengths, arrays, skipped, dropped = [], [], [], [], [], {}
    for name, path in job.files:
        try:
            joints, label, reasons = read_sample(path, job.settings)
        except (DataFormatError, ValueError, OSError) as error:
            skipped.append((name, str(error)))
            continue
        for reason in reasons:
            dropped[reason] = dropped.get(reason, 0) + 1
        names.append(name)
        labels.append(label)
        lengths.append(joints.shape[1])
        arrays.append(joints)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if lengths else np.zeros(0)
    save_npz_atomic(
        job.path,
        names=np.array(names, dtype=str),
        labels=np.array(labels, dtype=np.int64),
        lengths=np.array(lengths, dtype=np.int64),
        offsets=offsets.astype(np.int64),
        joints=np.concatenate(arrays or [np.zeros((3, 0, 1, 1))], axis=1).astype(np.float32),
        skipped_names=np.array([name for name, _ in skipped], dtype=str),
        skipped_reasons=np.array([reason for _, reason in skipped], dtype=str),
        dropped=np.array(json.dumps(dropped)),
    )
    return len(job.files)


def load_shard(path: Path) -> ShardContent:
    """Read a shard written by :func:`run_shard`."""
    with np.load(path, allow_pickle=False) as archive:
        return ShardContent(
            names=[str(name) for name in archive["names"]],
            labels=archive["labels"],
            lengths=archive["lengths"],
            offsets=archive["offsets"],
            joints=archive["joints"],
            skipped=list(zip(map(str, archive["skipped_names"]), map(str, archive["skipped_reasons"]))),
            dropped=json.loads(str(archive["dropped"])),
        )


def build_shards(
    cache: Path, files: Sequence[tuple], settings: SampleSettings, size: int, workers: int, progress: bool
) -> tuple[list[Path], int, int]:
    """Convert ``(name, path)`` ``files`` into shards of ``size`` under ``cache``, reusing the
    shards already there and deleting those no longer named; returns ``(shard paths, built, reused)``.
    ``workers=1`` runs inline."""
    if size < 1:
        raise ValueError(f"shard_size must be at least 1, got {size}")
    jobs = []
    for number, start in enumerate(range(0, len(files), size)):
        chunk = tuple(files[start : start + size])
        path = cache / f"shard_{number:05d}_{fingerprint(chunk, settings)}.npz"
        jobs.append(ShardJob(path, chunk, settings))
    todo = [job for job in jobs if not job.path.is_file()]
    if len(todo) < len(jobs):
        logger.info("resuming: %d of %d shards already prepared", len(jobs) - len(todo), len(jobs))
    cache.mkdir(parents=True, exist_ok=True)
    total = sum(len(job.files) for job in todo)
    with tqdm(total=total, unit="file", desc="preparing", disable=not progress) as bar:
        for count in _run(todo, workers):
            bar.update(count)
    paths = [job.path for job in jobs]
    for stale in set(cache.glob("shard_*.npz")) - set(paths):
        stale.unlink()
    return paths, len(todo), len(jobs) - len(todo)


def _run(jobs: Sequence[ShardJob], workers: int) -> Iterator[int]:
    if workers <= 1 or len(jobs) <= 1:
        yield from map(run_shard, jobs)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        yield from pool.map(run_shard, jobs)
