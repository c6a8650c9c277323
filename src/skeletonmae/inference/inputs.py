"""Read the skeleton files users want labelled into ``(C, T, V, M)`` sequences, one per sample.

Formats (chosen by suffix), each through the data layer's own reader so that a file predicted on
is prepared exactly as ``skeletonmae prepare`` prepares it:

- ``.skeleton``: raw NTU RGB+D (Kinect v2); parsed, then denoised, actor-ranked and centred by
  :func:`skeletonmae.data.ntu_preprocess.preprocess_skeleton` (at most the model's persons);
- ``.json``: Northwestern-UCLA ``all_sqe``; centred on joint 1 of the first frame as
  :func:`skeletonmae.data.prepare.prepare_nw_ucla` does by default;
- ``.npz``: the generic format (:mod:`skeletonmae.data.formats.generic`); every sample of every
  split becomes one input named ``file.npz#sample_name``, cut to its valid length;
- a folder of OpenPose ``*_keypoints.json`` frames: one video, ``(x, y, score)`` of the most
  confident people (:mod:`skeletonmae.data.formats.openpose`).

A folder is searched recursively for those suffixes and for OpenPose video folders. A file that
cannot be read becomes an :class:`InputFailure` (the message names the file, where, what was
expected and the fix); the others are still read.
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

__all__ = [
    "SkeletonInput",
    "InputFailure",
    "INPUT_SUFFIXES",
    "find_input_files",
    "read_input_file",
    "read_inputs",
]

INPUT_SUFFIXES: dict[str, str] = {
    ".skeleton": "raw NTU RGB+D",
    ".json": "NW-UCLA all_sqe JSON",
    ".npz": "generic skeleton archive",
}
NW_UCLA_CENTER_JOINT = 1  # prepare_nw_ucla's default (the spine joint of Kinect v1)


@dataclasses.dataclass(frozen=True)
class SkeletonInput:
    """One sequence to run: ``joints`` ``(C, T, V, M)`` float32 holding its ``T`` valid frames.

    ``name`` identifies it in reports (the file stem, or ``file.npz#sample``); ``layout`` is the
    layout the source format implies (None when unknown, e.g. arrays passed from Python).
    """

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

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "error": self.error}


def find_input_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[InputFailure]]:
    """Expand folders (recursively, known suffixes only, sorted); missing paths, folders without
    inputs and files with an unknown suffix become failures."""
    files: list[Path] = []
    failures: list[InputFailure] = []
    known = ", ".join(f"{suffix} ({what})" for suffix, what in INPUT_SUFFIXES.items())
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            videos = {p.parent for p in path.rglob("*_keypoints.json")}  # OpenPose: a folder per video
            found = sorted(videos) + sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix in INPUT_SUFFIXES and p.parent not in videos
            )
            if not found:
                failures.append(
                    InputFailure(
                        path.name, str(path), f"{path}: folder holds no input file; expected {known}"
                    )
                )
            files.extend(found)
        elif not path.exists():
            failures.append(
                InputFailure(path.name, str(path), f"{path}: no such file or folder; check the path")
            )
        elif path.suffix not in INPUT_SUFFIXES:
            failures.append(
                InputFailure(
                    path.name,
                    str(path),
                    f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; expected {known}",
                )
            )
        else:
            files.append(path)
    return files, failures


def read_input_file(
    path: str | os.PathLike[str], max_persons: int, preprocess: PreprocessConfig | None = None
) -> list[SkeletonInput]:
    """The sequences in one file (see the module docstring); raises :class:`DataFormatError`.

    ``max_persons`` is the model's person count (raw NTU files keep that many actors).
    """
    path = Path(path)
    if path.is_dir():
        joints, layout = read_openpose_video(path, max_persons)
        return [SkeletonInput(path.name, str(path), joints, layout)]
    if path.suffix == ".skeleton":
        config = dataclasses.replace(preprocess or PreprocessConfig(), max_persons=max_persons)
        sample = preprocess_skeleton(parse_skeleton_file(path), config)
        return [SkeletonInput(sample.name, str(path), sample.joints, "ntu25")]
    if path.suffix == ".json":
        sequence = read_nw_ucla_file(path)
        joints = centered_sample(sequence, NW_UCLA_CENTER_JOINT)  # (C, T, V, 1)
        return [SkeletonInput(path.stem, str(path), joints, "nw_ucla20")]
    if path.suffix == ".npz":
        return _generic_inputs(path)
    raise DataFormatError(
        path, f"unsupported file type {path.suffix!r}; expected one of {', '.join(INPUT_SUFFIXES)}"
    )


def _generic_inputs(path: Path) -> list[SkeletonInput]:
    inputs = []
    for split in read_generic_npz(path).values():
        for index, name in enumerate(split.names):
            length = int(split.lengths[index])
            joints = np.asarray(split.data[index, :, :length], dtype=np.float32)  # (C, T, V, M)
            inputs.append(SkeletonInput(f"{path.name}#{name}", str(path), joints, split.layout))
    if not inputs:
        raise DataFormatError(path, "holds no samples; expected a generic archive with N >= 1", key="data")
    return inputs


def read_inputs(
    paths: Sequence[str | os.PathLike[str]], max_persons: int, preprocess: PreprocessConfig | None = None
) -> tuple[list[SkeletonInput], list[InputFailure]]:
    """Read every file and folder of ``paths``; bad ones are reported, not raised."""
    files, failures = find_input_files(paths)
    inputs: list[SkeletonInput] = []
    for path in files:
        try:
            inputs.extend(read_input_file(path, max_persons, preprocess))
        except (DataFormatError, OSError) as error:
            logger.debug("cannot read %s", path, exc_info=error)
            failures.append(InputFailure(path.name, str(path), str(error)))
    return inputs, failures
