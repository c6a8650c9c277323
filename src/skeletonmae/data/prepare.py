"""Raw NTU RGB+D / NW-UCLA folders -> a prepared dataset (:mod:`skeletonmae.data.store`): find the
raw files -> convert them into cached shards (:mod:`~skeletonmae.data.shards`) -> write every split ->
``manifest.json`` listing every skipped file with its reason. Bad files never stop the run; with
``strict=True`` a :class:`~skeletonmae.data.errors.PreparationError` follows the written dataset.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

from skeletonmae.data.classes import NTU60_CLASS_NAMES, NTU120_CLASS_NAMES, NW_UCLA_CLASS_NAMES
from skeletonmae.data.errors import DataFormatError, PreparationError
from skeletonmae.data.formats.nw_ucla import TRAIN_VIEWS, parse_nw_ucla_name
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.ntu_preprocess import PreprocessConfig
from skeletonmae.data.shards import SampleSettings, build_shards, load_shard
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
RawFolders = str | Path | Sequence[str | Path]


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


@dataclass(frozen=True)
class _Source:
    """What differs between the raw datasets; the rest of the path is shared."""

    settings: SampleSettings
    files: list[tuple[str, str]]  # (sample name, path), in name order
    skipped: list[SkippedFile]
    split_of: Callable[[str], str]
    layout: str
    class_names: tuple[str, ...]
    num_persons: int
    meta: dict  # benchmark and source, in every meta.json and the manifest
    record: dict  # the manifest's "settings"
    dtype: str  # of data.npy


class _Row(NamedTuple):
    """Where one prepared sample lives in the shard cache."""

    shard: int
    row: int
    name: str
    length: int
    label: int


def prepare_ntu(
    raw_dir: RawFolders,
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
    """Prepare an NTU benchmark from ``.skeleton`` files (searched recursively; NTU-120: several
    folders) into ``(N, 3, max_frames, 25, 2)``. ``missing_list``: the official samples to ignore;
    ``None`` looks beside ``raw_dir`` and its parent, else filters nothing (with a warning)."""
    check_benchmark(benchmark)
    started = time.perf_counter()
    excluded = _missing_names(raw_dir, missing_list)
    files, skipped, seen = [], [], set()
    for name, path, sample in _named_files(raw_dir, "*.skeleton", parse_ntu_name, skipped):
        if not in_benchmark(sample, benchmark):
            continue
        if name in seen:
            skipped.append(SkippedFile(name, path, "duplicate sample name; the first file was used"))
        elif name in excluded:
            skipped.append(SkippedFile(name, path, "on the official missing-skeleton list", "excluded"))
        else:
            seen.add(name)
            files.append((name, path))
    found = "found beside the raw data" if excluded else None
    source = _Source(
        SampleSettings("ntu", preprocess=preprocess, max_frames=max_frames),
        files,
        skipped,
        lambda name: "train" if is_training_sample(parse_ntu_name(name), benchmark) else "test",
        "ntu25",
        NTU60_CLASS_NAMES if benchmark.startswith("ntu60") else NTU120_CLASS_NAMES,
        preprocess.max_persons,
        {"benchmark": benchmark, "source": "ntu-raw"},
        {
            "preprocess": asdict(preprocess),
            "max_frames": max_frames,
            "dtype": dtype,
            "missing_list": str(missing_list) if missing_list is not None else found,
        },
        dtype,
    )
    return _prepare(source, Path(out_dir), started, workers, strict, shard_size, progress)


def prepare_nw_ucla(
    raw_dir: str | Path,
    out_dir: str | Path,
    *,
    workers: int = 1,
    strict: bool = False,
    dtype: str = "float32",
    shard_size: int = 128,
    progress: bool = True,
) -> PrepareReport:
    """Prepare NW-UCLA from its ``all_sqe`` JSON folder: views 1+2 train, view 3 test, M = 1,
    padded to the longest sequence, centred on the spine (joint 1) of the first frame."""
    started = time.perf_counter()
    skipped: list[SkippedFile] = []
    files = [(name, path) for name, path, _ in _named_files(raw_dir, "*.json", parse_nw_ucla_name, skipped)]
    source = _Source(
        SampleSettings("nw-ucla", max_frames=None),
        files,
        skipped,
        lambda name: "train" if parse_nw_ucla_name(name)[3] in TRAIN_VIEWS else "test",
        "nw_ucla20",
        NW_UCLA_CLASS_NAMES,
        1,
        {"benchmark": "nw-ucla", "source": "nw-ucla-all_sqe"},
        {"center_joint": 1, "dtype": dtype},
        dtype,
    )
    return _prepare(source, Path(out_dir), started, workers, strict, shard_size, progress)


def _folders(raw_dir: RawFolders) -> list[Path]:
    return [Path(raw_dir)] if isinstance(raw_dir, (str, os.PathLike)) else list(map(Path, raw_dir))


def _named_files(
    raw_dir: RawFolders, pattern: str, parse: Callable[..., object], skipped: list[SkippedFile]
) -> Iterator[tuple[str, str, object]]:
    """``(name, path, parse(name))`` of every ``pattern`` file in name order; bad names to ``skipped``."""
    paths: list[Path] = []
    for folder in _folders(raw_dir):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{folder}: raw data folder not found; pass the folder holding the {pattern} files"
            )
        paths.extend(path for path in folder.rglob(pattern) if path.is_file())
    for path in sorted(paths, key=lambda path: (path.name, str(path))):
        try:
            parsed = parse(path.stem, source=path)
        except DataFormatError as error:
            skipped.append(SkippedFile(path.stem, str(path), str(error)))
            continue
        yield path.stem, str(path), parsed


def _missing_names(raw_dir: RawFolders, missing_list: str | Path | None) -> set[str]:
    if missing_list is not None:
        return set(read_name_list(missing_list))
    names: set[str] = set()
    for folder in _folders(raw_dir):
        for candidate in (place / name for place in (folder, folder.parent) for name in MISSING_LIST_NAMES):
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
    source: _Source, out_dir: Path, started: float, workers: int, strict: bool, size: int, progress: bool
) -> PrepareReport:
    """Shards -> splits -> manifest (the shared path of both datasets)."""
    kind = source.settings.kind
    if not source.files:
        raise FileNotFoundError(f"no usable {kind} files found; check the raw folder")
    paths, built, reused = build_shards(
        out_dir / CACHE_DIR / kind, source.files, source.settings, size, workers, progress
    )
    skipped = list(source.skipped)
    rows, denoising = _index_shards(paths, source, skipped)
    longest = max((item.length for split_rows in rows.values() for item in split_rows), default=1)
    frames = longest if source.settings.max_frames is None else source.settings.max_frames
    counts = {
        split: _write_split(out_dir / split, paths, split_rows, source, frames)
        for split, split_rows in rows.items()
    }
    write_manifest(
        out_dir,
        {
            "dataset": kind,
            **source.meta,
            "layout": source.layout,
            "num_classes": len(source.class_names),
            "counts": counts,
            "settings": source.record,
            "denoising_removed_bodies": denoising,
            "num_skipped": len(skipped),
            "skipped": [asdict(item) for item in skipped],
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    seconds = time.perf_counter() - started
    report = PrepareReport(out_dir, counts, tuple(skipped), built, reused, seconds, denoising)
    logger.info("prepared %s: %s, %d skipped", out_dir, counts, len(skipped))
    if strict and report.bad_files:
        raise PreparationError(
            f"{len(report.bad_files)} bad input file(s), first: {report.bad_files[0].reason} "
            f"(all listed in {out_dir / 'manifest.json'})",
            report,
        )
    return report


def _index_shards(
    paths: list[Path], source: _Source, skipped: list[SkippedFile]
) -> tuple[dict[str, list[_Row]], dict[str, int]]:
    """Per split, the rows of every prepared sample in name order; collect skips and denoising counts."""
    rows: dict[str, list[_Row]] = {"train": [], "test": []}
    denoising: dict[str, int] = {}
    file_of = dict(source.files)
    for shard, path in enumerate(paths):
        content = load_shard(path)
        for row, name in enumerate(content.names):
            item = _Row(shard, row, name, int(content.lengths[row]), int(content.labels[row]))
            rows[source.split_of(name)].append(item)
        skipped.extend(SkippedFile(name, file_of.get(name, ""), reason) for name, reason in content.skipped)
        for reason, count in content.dropped.items():
            denoising[reason] = denoising.get(reason, 0) + count
    for split_rows in rows.values():
        split_rows.sort(key=lambda item: item.name)
    return rows, denoising


def _write_split(folder: Path, paths: list[Path], rows: list[_Row], source: _Source, frames: int) -> int:
    """Copy the split's samples from their shards (one shard in memory at a time) into ``folder``."""
    num_joints = get_layout(source.layout).num_joints
    with SplitWriter(folder, len(rows), (3, frames, num_joints, source.num_persons), source.dtype) as writer:
        by_shard: dict[int, list[tuple[int, int]]] = {}
        for position, item in enumerate(rows):
            by_shard.setdefault(item.shard, []).append((position, item.row))
        for shard, members in sorted(by_shard.items()):
            content = load_shard(paths[shard])
            for position, row in members:
                sample = content.sample(row)  # (C, T, V, M)
                writer.data[position, :, : sample.shape[1]] = sample
        meta = {
            "layout": source.layout,
            "num_classes": len(source.class_names),
            "class_names": list(source.class_names),
            "num_samples": len(rows),
            "num_channels": 3,
            "max_frames": frames,
            "num_joints": num_joints,
            "num_persons": source.num_persons,
            "dtype": source.dtype,
            "split": folder.name,
            **source.meta,
        }
        writer.commit(
            [item.label for item in rows], [item.length for item in rows], [item.name for item in rows], meta
        )
    return len(rows)
