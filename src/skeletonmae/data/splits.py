"""NTU RGB+D sample names and the four standard benchmarks (train/test membership).

A sample name ``SsssCcccPpppRrrrAaaa`` gives setup, camera, performer (subject), replication and
action, all 1-based. NTU-60 is setups 1-17 (actions 1-60); NTU-120 adds setups 18-32 (actions 61-120).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from skeletonmae.data.errors import DataFormatError

BENCHMARKS: tuple[str, ...] = ("ntu60-xsub", "ntu60-xview", "ntu120-xsub", "ntu120-xset")

NTU60_XSUB_TRAIN_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
)
NTU60_XVIEW_TRAIN_CAMERAS = frozenset((2, 3))
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89,
     91, 92, 93, 94, 95, 97, 98, 100, 103)
)  # fmt: skip
NTU60_LAST_SETUP = 17

_NAME_PATTERN = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")


@dataclass(frozen=True, order=True)
class NtuSampleName:
    """The five ids in an NTU sample name (all 1-based)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def name(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def label(self) -> int:
        """0-based class index (``action - 1``)."""
        return self.action - 1

    @property
    def in_ntu60(self) -> bool:
        return self.setup <= NTU60_LAST_SETUP and self.action <= 60


def _stem(name: str) -> str:
    return name[: -len(".skeleton")] if name.endswith(".skeleton") else name


def parse_ntu_name(name: str, *, source: str | Path | None = None) -> NtuSampleName:
    """Parse ``S001C002P003R002A013`` (a trailing ``.skeleton`` is ignored); a name that does not
    match raises :class:`DataFormatError` naming ``source`` (or the name)."""
    stem = _stem(name)
    match = _NAME_PATTERN.match(stem)
    if match is None:
        raise DataFormatError(
            source or name,
            f"sample name {stem!r} does not match the NTU pattern SsssCcccPpppRrrrAaaa "
            "(e.g. S001C002P003R002A013); rename the file or leave it out of the raw folder",
        )
    ids = tuple(int(group) for group in match.groups())
    if min(ids) < 1 or ids[4] > 120:
        raise DataFormatError(
            source or name, f"sample name {stem!r} has ids out of range (1-based, A001-A120)"
        )
    return NtuSampleName(*ids)


def check_benchmark(benchmark: str) -> str:
    """Return ``benchmark`` if known, else raise naming the choices."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    return benchmark


def in_benchmark(sample: NtuSampleName, benchmark: str) -> bool:
    """Whether the sample belongs to the benchmark's dataset (NTU-60 benchmarks use setups 1-17)."""
    check_benchmark(benchmark)
    return sample.in_ntu60 if benchmark.startswith("ntu60") else True


def is_training_sample(sample: NtuSampleName, benchmark: str) -> bool:
    """Whether the sample is on the training side of ``benchmark``."""
    check_benchmark(benchmark)
    if benchmark == "ntu60-xsub":
        return sample.performer in NTU60_XSUB_TRAIN_SUBJECTS
    if benchmark == "ntu60-xview":
        return sample.camera in NTU60_XVIEW_TRAIN_CAMERAS
    if benchmark == "ntu120-xsub":
        return sample.performer in NTU120_XSUB_TRAIN_SUBJECTS
    return sample.setup % 2 == 0  # ntu120-xset: even setup ids train


def read_name_list(path: str | Path) -> list[str]:
    """Sample names, one a line; blanks and header lines (three in the official lists) are skipped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: name list not found; pass the path of an existing text file")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [_stem(line.strip()) for line in lines if _NAME_PATTERN.match(_stem(line.strip()))]
