"""The official NTU name lists (``ntu/meta``: every usable sample of NTU-60 and NTU-120, the
missing-skeleton lists) reproduce the published split sizes. Extra checks: the module skips as a
whole where ../shared/data is absent (tests/data/test_splits.py checks the split rules on names)."""

from __future__ import annotations

import pytest
from shared_data import require_shared_data

from skeletonmae.data.splits import (
    BENCHMARKS,
    in_benchmark,
    is_training_sample,
    parse_ntu_name,
    read_name_list,
)

META = require_shared_data("the official NTU name lists", "ntu/meta") / "ntu" / "meta"


def split_names(names: list[str], benchmark: str) -> tuple[list[str], list[str]]:
    """``(train, test)`` names of ``benchmark`` (names outside its dataset are left out)."""
    samples = [(name, parse_ntu_name(name)) for name in names]
    inside = [(name, sample) for name, sample in samples if in_benchmark(sample, benchmark)]
    train = [name for name, sample in inside if is_training_sample(sample, benchmark)]
    return train, [name for name, sample in inside if not is_training_sample(sample, benchmark)]


EXPECTED = {
    "ntu60-xsub": (40091, 16487),
    "ntu60-xview": (37646, 18932),
    "ntu120-xsub": (63026, 50919),
    "ntu120-xset": (54468, 59477),
}


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_split_counts_reproduce_the_published_numbers(benchmark):
    listing = "ntu60" if benchmark.startswith("ntu60") else "ntu120"
    names = read_name_list(META / f"{listing}_available_sample_names.txt")
    train, test = split_names(names, benchmark)
    assert (len(train), len(test)) == EXPECTED[benchmark]
    assert not set(train) & set(test)


def test_ntu60_benchmarks_ignore_ntu120_setups():
    names = read_name_list(META / "ntu120_available_sample_names.txt")
    train, test = split_names(names, "ntu60-xsub")
    assert (len(train), len(test)) == EXPECTED["ntu60-xsub"]


def test_missing_lists_are_read_past_their_header():
    assert len(read_name_list(META / "NTU_RGBD_samples_with_missing_skeletons.txt")) == 302
    assert len(read_name_list(META / "NTU_RGBD120_samples_with_missing_skeletons.txt")) == 535
