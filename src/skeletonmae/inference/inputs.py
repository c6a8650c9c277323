"""Read the skeleton files users want labelled into ``(C, T, V, M)`` sequences, one per sample.

Each format goes through the data layer's reader, so a file is prepared as ``skeletonmae prepare``
prepares it: ``.skeleton`` (raw NTU), ``.json`` (NW-UCLA), ``.npz`` (generic archive: one input
``file.npz#name`` per sample) and a folder of OpenPose ``*_keypoints.json`` frames (one video).
Folders are searched recursively; a file that cannot be read becomes an :class:`InputFailure`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.formats.generic import read_generic_npz
from skeletonmae.data.formats.nw_ucla import centered_sample, read_nw_ucla_file
from skeletonmae.data.formats.openpose import read_openpose_video
from skeletonmae.data.ntu_preprocess import PreprocessConfig, preprocess_skeleton
from skeletonmae.data.ntu_raw import parse_skeleton_file

logger = logging.getLogger(__name__)


INPUT_SUFFIXES: dict[str, str] = {
    ".skeleton": "raw NTU RGB+D",
    ".json": "NW-UCLA all_sqe JSON",
    ".npz": "generic skeleton archive",
}
NW_UCLA_CENTER_JOINT = 1  # prepare_nw_ucla's default (the spine joint of Kinect v1)


@dataclasses.dataclass(frozen=True)
class SkeletonInput:
    """One sequence to run: ``joints`` ``(C, T, V, M)`` float32 holding its ``T`` valid frames;
    ``name`` identifies it in reports (file stem, ``file.npz#sample``); ``layout``: the one the source
    format implies (None when unknown, e.g. arrays passed from Python)."""

    name: str
    source: str
    joints: np.ndarray
    layout: str | None = None


@dataclasses.dataclass(frozen=True)
class InputFailure:
    """An input that could not be used, with the reason (file, where, what was expected, fix)."""

    name: str
    source: str
    error: str

    @classmethod
    def of(cls, path: Path, error: object) -> InputFailure:
        return cls(path.name, str(path), str(error))

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def find_input_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[InputFailure]]:
    """Expand folders (recursively, known suffixes only, sorted); missing paths, folders without
    inputs and files with an unknown suffix become failures."""
    files: list[Path] = []
    failures: list[InputFailure] = []
    known = ", ".join(f"{suffix} ({what})" for suffix, what in INPUT_SUFFIXES.items())
    for path in map(Path, paths):
        found, problem = [path], ""
        if path.is_dir():
            videos = {p.parent for p in path.rglob("*_keypoints.json")}  # OpenPose: a folder per video
            found = sorted(videos) + sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix in INPUT_SUFFIXES and p.parent not in videos
            )
            problem = "" if found else f"folder holds no input file; expected {known}"
        elif not path.exists():
            found, problem = [], "no such file or folder; check the path"
        elif path.suffix not in INPUT_SUFFIXES:
            found, problem = [], f"unsupported file type {path.suffix or '(no suffix)'!r}; expected {known}"
        files.extend(found)
        if problem:
            failures.append(InputFailure.of(path, f"{path}: {problem}"))
    return files, failures


def _read_file(path: Path, max_persons: int) -> list[SkeletonInput]:
    """The sequences in one file or OpenPose folder found by :func:`find_input_files` (raw NTU
    files keep ``max_persons`` actors); raises :class:`DataFormatError`."""
    if path.is_dir():
        joints, layout = read_openpose_video(path, max_persons)
        return [SkeletonInput(path.name, str(path), joints, layout)]
    if path.suffix == ".skeleton":
        sample = preprocess_skeleton(parse_skeleton_file(path), PreprocessConfig(max_persons=max_persons))
        return [SkeletonInput(sample.name, str(path), sample.joints, "ntu25")]
    if path.suffix == ".json":
        joints = centered_sample(read_nw_ucla_file(path), NW_UCLA_CENTER_JOINT)  # (C, T, V, 1)
        return [SkeletonInput(path.stem, str(path), joints, "nw_ucla20")]
    inputs = []  # .npz
    for split in read_generic_npz(path).values():
        for index, name in enumerate(split.names):
            joints = np.asarray(split.data[index, :, : int(split.lengths[index])], np.float32)  # (C, T, V, M)
            inputs.append(SkeletonInput(f"{path.name}#{name}", str(path), joints, split.layout))
    if not inputs:
        raise DataFormatError(path, "holds no samples; expected a generic archive with N >= 1", key="data")
    return inputs


def read_inputs(
    paths: Sequence[str | os.PathLike[str]], max_persons: int
) -> tuple[list[SkeletonInput], list[InputFailure]]:
    """Read every file and folder of ``paths``; bad ones are reported, not raised."""
    files, failures = find_input_files(paths)
    inputs: list[SkeletonInput] = []
    for path in files:
        try:
            inputs.extend(_read_file(path, max_persons))
        except (DataFormatError, OSError) as error:
            logger.debug("cannot read %s", path, exc_info=error)
            failures.append(InputFailure.of(path, error))
    return inputs, failures
