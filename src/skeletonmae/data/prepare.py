"""Raw NTU RGB+D / NW-UCLA folders -> a prepared dataset (see :mod:`skeletonmae.data.store`).

Both entry points are resumable (finished shards under ``out_dir/.cache`` are reused), parallel
over files (``workers`` processes; 1 = inline) with a tqdm progress bar, and list every skipped file
with its reason in ``manifest.json``. Bad files never stop the run; with ``strict=True`` a
:class:`~skeletonmae.data.errors.PreparationError` is raised after the dataset is written.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from skeletonmae.data.classes import NTU60_CLASS_NAMES, NTU120_CLASS_NAMES, NW_UCLA_CLASS_NAMES
from skeletonmae.data.errors import DataFormatError, PreparationError
from skeletonmae.data.formats.nw_ucla import TRAIN_VIEWS, parse_nw_ucla_name
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.ntu_preprocess import PreprocessConfig
from skeletonmae.data.shards import SampleSettings, build_shards, load_shard, plan_shards
from skeletonmae.data.splits import (
    check_benchmark,
    in_benchmark,
    is_training_sample,
    parse_ntu_name,
    read_name_list,
)
from skeletonmae.data.store import SplitWriter, write_manifest

logger = logging.getLogger(__name__)

CACHE_DIR = ".cache"
MISSING_LIST_NAMES = (
    "NTU_RGBD_samples_with_missing_skeletons.txt",
    "NTU_RGBD120_samples_with_missing_skeletons.txt",
)


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the dataset: ``kind`` is ``"bad"`` (unreadable) or ``"excluded"`` (by a list)."""

    name: str
    path: str
    reason: str
    kind: str = "bad"


@dataclass(frozen=True)
class PrepareReport:
    """What a preparation produced."""

    out_dir: Path
    counts: dict[str, int]
    skipped: tuple[SkippedFile, ...]
    shards_built: int
    shards_reused: int
    seconds: float
    denoising: dict[str, int] = field(default_factory=dict)

    @property
    def bad_files(self) -> tuple[SkippedFile, ...]:
        return tuple(item for item in self.skipped if item.kind == "bad")


class _Row(NamedTuple):
    """Where one prepared sample lives in the shard cache."""

    shard: int
    row: int
    name: str
    length: int
    label: int


@dataclass(frozen=True)
class _Source:
    """A dataset-specific description handed to the shared pipeline."""

    kind: str
    files: list[tuple[str, str]]
    split_of: Callable[[str], str]
    layout: str
    class_names: tuple[str, ...]
    max_frames: int | None
    num_persons: int
    extra_meta: dict


def discover_files(raw_dir: str | Path | Sequence[str | Path], pattern: str) -> list[Path]:
    """Every file matching ``pattern`` under ``raw_dir`` (one folder or several), sorted by name."""
    folders = [raw_dir] if isinstance(raw_dir, (str, os.PathLike)) else list(raw_dir)
    found: list[Path] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{folder}: raw data folder not found; pass the folder holding the {pattern} files"
            )
        found.extend(path for path in folder.rglob(pattern) if path.is_file())
    return sorted(found, key=lambda path: (path.name, str(path)))


def prepare_ntu(
    raw_dir: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    benchmark: str,
    *,
    workers: int = 1,
    strict: bool = False,
    missing_list: str | Path | None = None,
    preprocess: PreprocessConfig = PreprocessConfig(),
    max_frames: int = 300,
    dtype: str = "float32",
    shard_size: int = 64,
    progress: bool = True,
) -> PrepareReport:
    """Prepare one NTU benchmark (``ntu60-xsub``, ``ntu60-xview``, ``ntu120-xsub``, ``ntu120-xset``).

    ``raw_dir`` holds ``.skeleton`` files (searched recursively; several folders allowed for NTU-120).
    ``missing_list``: the official list of samples to ignore; ``None`` looks for it in ``raw_dir`` and
    its parent and filters nothing (with a warning) if absent. Output ``(N, 3, max_frames, 25, 2)``.
    """
    check_benchmark(benchmark)
    started = time.perf_counter()
    skipped: list[SkippedFile] = []
    excluded = _missing_names(raw_dir, missing_list)
    files = _ntu_files(raw_dir, benchmark, excluded, skipped)
    ntu60 = benchmark.startswith("ntu60")
    source = _Source(
        kind="ntu",
        files=files,
        split_of=lambda name: "train" if is_training_sample(parse_ntu_name(name), benchmark) else "test",
        layout="ntu25",
        class_names=NTU60_CLASS_NAMES if ntu60 else NTU120_CLASS_NAMES,
        max_frames=max_frames,
        num_persons=preprocess.max_persons,
        extra_meta={"benchmark": benchmark, "source": "ntu-raw"},
    )
    settings = SampleSettings("ntu", preprocess=preprocess, max_frames=max_frames)
    manifest_settings = {
        "preprocess": asdict(preprocess),
        "max_frames": max_frames,
        "dtype": dtype,
        "missing_list": str(missing_list)
        if missing_list is not None
        else ("found beside the raw data" if excluded else None),
    }
    return _prepare(
        source,
        settings,
        Path(out_dir),
        skipped,
        manifest_settings,
        workers=workers,
        strict=strict,
        dtype=dtype,
        shard_size=shard_size,
        progress=progress,
        started=started,
    )


def _ntu_files(
    raw_dir: str | Path | Sequence[str | Path], benchmark: str, excluded: set[str], skipped: list[SkippedFile]
) -> list[tuple[str, str]]:
    """``(name, path)`` of the benchmark's usable files; bad names, duplicates and listed ones go
    to ``skipped``."""
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in discover_files(raw_dir, "*.skeleton"):
        name = path.name[: -len(".skeleton")]
        try:
            sample = parse_ntu_name(name, source=path)
        except DataFormatError as error:
            skipped.append(SkippedFile(name, str(path), str(error)))
            continue
        if not in_benchmark(sample, benchmark):
            continue
        if name in seen:
            skipped.append(SkippedFile(name, str(path), "duplicate sample name; the first file was used"))
        elif name in excluded:
            skipped.append(SkippedFile(name, str(path), "on the official missing-skeleton list", "excluded"))
        else:
            seen.add(name)
            files.append((name, str(path)))
    return files


def prepare_nw_ucla(
    raw_dir: str | Path,
    out_dir: str | Path,
    *,
    workers: int = 1,
    strict: bool = False,
    center_joint: int = 1,
    dtype: str = "float32",
    shard_size: int = 128,
    progress: bool = True,
) -> PrepareReport:
    """Prepare NW-UCLA from its ``all_sqe`` JSON folder: views 1+2 train, view 3 test, M = 1,
    padded to the longest sequence, centred on ``center_joint`` (spine) of the first frame."""
    started = time.perf_counter()
    skipped: list[SkippedFile] = []
    files: list[tuple[str, str]] = []
    for path in discover_files(raw_dir, "*.json"):
        try:
            parse_nw_ucla_name(path.stem, path)
        except DataFormatError as error:
            skipped.append(SkippedFile(path.stem, str(path), str(error)))
            continue
        files.append((path.stem, str(path)))
    source = _Source(
        kind="nw-ucla",
        files=files,
        split_of=lambda name: "train" if parse_nw_ucla_name(name)[3] in TRAIN_VIEWS else "test",
        layout="nw_ucla20",
        class_names=NW_UCLA_CLASS_NAMES,
        max_frames=None,
        num_persons=1,
        extra_meta={"benchmark": "nw-ucla", "source": "nw-ucla-all_sqe"},
    )
    settings = SampleSettings("nw-ucla", max_frames=None, center_joint=center_joint)
    manifest_settings = {"center_joint": center_joint, "dtype": dtype}
    return _prepare(
        source,
        settings,
        Path(out_dir),
        skipped,
        manifest_settings,
        workers=workers,
        strict=strict,
        dtype=dtype,
        shard_size=shard_size,
        progress=progress,
        started=started,
    )


def _missing_names(raw_dir: str | Path | Sequence[str | Path], missing_list: str | Path | None) -> set[str]:
    if missing_list is not None:
        return set(read_name_list(missing_list))
    folders = [raw_dir] if isinstance(raw_dir, (str, os.PathLike)) else list(raw_dir)
    names: set[str] = set()
    for folder in map(Path, folders):
        for candidate in (folder / name for folder in (folder, folder.parent) for name in MISSING_LIST_NAMES):
            if candidate.is_file():
                logger.info("using the missing-skeleton list %s", candidate)
                names |= set(read_name_list(candidate))
    if not names:
        logger.warning(
            "no missing-skeleton list given or found beside the raw data; no sample is excluded "
            "(pass missing_list= / --missing-list to filter the official list)"
        )
    return names


def _prepare(
    source: _Source,
    settings: SampleSettings,
    out_dir: Path,
    skipped: list[SkippedFile],
    manifest_settings: dict,
    *,
    workers: int,
    strict: bool,
    dtype: str,
    shard_size: int,
    progress: bool,
    started: float,
) -> PrepareReport:
    if not source.files:
        raise FileNotFoundError(f"no usable {source.kind} files found; check the raw folder")
    jobs = plan_shards(out_dir / CACHE_DIR / source.kind, source.files, settings, shard_size)
    built, reused = build_shards(jobs, workers=workers, progress=progress)
    _remove_stale_shards(out_dir / CACHE_DIR / source.kind, {job.path for job in jobs})
    rows, denoising = _index_shards([job.path for job in jobs], source, skipped)
    counts = _write_splits(out_dir, jobs, rows, source, dtype)
    manifest = {
        "dataset": source.kind,
        **source.extra_meta,
        "layout": source.layout,
        "num_classes": len(source.class_names),
        "counts": counts,
        "settings": manifest_settings,
        "denoising_removed_bodies": denoising,
        "num_skipped": len(skipped),
        "skipped": [asdict(item) for item in skipped],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_manifest(out_dir, manifest)
    report = PrepareReport(
        out_dir, counts, tuple(skipped), built, reused, time.perf_counter() - started, denoising
    )
    logger.info("prepared %s: %s, %d skipped", out_dir, counts, len(skipped))
    if strict and report.bad_files:
        first = report.bad_files[0]
        raise PreparationError(
            f"{len(report.bad_files)} bad input file(s), first: {first.reason} "
            f"(all listed in {out_dir / 'manifest.json'})",
            report,
        )
    return report


def _remove_stale_shards(cache: Path, current: set[Path]) -> None:
    for path in cache.glob("shard_*.npz"):
        if path not in current:
            path.unlink()


def _index_shards(
    paths: Iterable[Path], source: _Source, skipped: list[SkippedFile]
) -> tuple[dict[str, list[_Row]], dict[str, int]]:
    """Per split, the rows of every prepared sample in name order; collect skips and denoising counts."""
    rows: dict[str, list[_Row]] = {"train": [], "test": []}
    denoising: dict[str, int] = {}
    file_of = dict(source.files)
    for shard_number, path in enumerate(paths):
        content = load_shard(path)
        for row, name in enumerate(content.names):
            item = _Row(shard_number, row, name, int(content.lengths[row]), int(content.labels[row]))
            rows[source.split_of(name)].append(item)
        skipped.extend(SkippedFile(name, file_of.get(name, ""), reason) for name, reason in content.skipped)
        for reason, count in content.dropped.items():
            denoising[reason] = denoising.get(reason, 0) + count
    for split_rows in rows.values():
        split_rows.sort(key=lambda item: item.name)
    return rows, denoising


def _write_splits(
    out_dir: Path, jobs: Sequence, rows: dict[str, list[_Row]], source: _Source, dtype: str
) -> dict[str, int]:
    longest = max((item.length for split_rows in rows.values() for item in split_rows), default=1)
    frames = source.max_frames if source.max_frames is not None else longest
    num_joints = get_layout(source.layout).num_joints
    shape = (3, frames, num_joints, source.num_persons)
    counts = {}
    for split, split_rows in rows.items():
        with SplitWriter(out_dir / split, len(split_rows), shape, dtype) as writer:
            _fill(writer.data, [job.path for job in jobs], split_rows)
            meta = {
                "layout": source.layout,
                "num_classes": len(source.class_names),
                "class_names": list(source.class_names),
                "num_samples": len(split_rows),
                "num_channels": 3,
                "max_frames": frames,
                "num_joints": num_joints,
                "num_persons": source.num_persons,
                "dtype": dtype,
                "split": split,
                **source.extra_meta,
            }
            writer.commit(
                [item.label for item in split_rows],
                [item.length for item in split_rows],
                [item.name for item in split_rows],
                meta,
            )
        counts[split] = len(split_rows)
    return counts


def _fill(data: np.ndarray, shard_paths: list[Path], split_rows: list[_Row]) -> None:
    """Copy every sample of the split from its shard into ``data`` (one shard in memory at a time)."""
    by_shard: dict[int, list[tuple[int, int]]] = {}
    for position, item in enumerate(split_rows):
        by_shard.setdefault(item.shard, []).append((position, item.row))
    for shard, members in sorted(by_shard.items()):
        content = load_shard(shard_paths[shard])
        for position, row in members:
            sample = content.sample(row)  # (C, T, V, M)
            data[position, :, : sample.shape[1]] = sample
