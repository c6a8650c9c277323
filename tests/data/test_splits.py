"""NTU sample names and the four benchmark splits (counts from the official name lists)."""

from __future__ import annotations

import pytest

from skeletonmae.data.classes import NTU60_CLASS_NAMES, NTU120_CLASS_NAMES, NW_UCLA_CLASS_NAMES
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.splits import (
    BENCHMARKS,
    is_training_sample,
    parse_ntu_name,
    read_name_list,
    split_names,
)

EXPECTED = {
    "ntu60-xsub": (40091, 16487),
    "ntu60-xview": (37646, 18932),
    "ntu120-xsub": (63026, 50919),
    "ntu120-xset": (54468, 59477),
}


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_split_counts_reproduce_the_published_numbers(shared_data, benchmark):
    listing = "ntu60" if benchmark.startswith("ntu60") else "ntu120"
    names = read_name_list(shared_data / "ntu" / "meta" / f"{listing}_available_sample_names.txt")
    train, test = split_names(names, benchmark)
    assert (len(train), len(test)) == EXPECTED[benchmark]
    assert not set(train) & set(test)


def test_ntu60_benchmarks_ignore_ntu120_setups(shared_data):
    names = read_name_list(shared_data / "ntu" / "meta" / "ntu120_available_sample_names.txt")
    train, test = split_names(names, "ntu60-xsub")
    assert (len(train), len(test)) == EXPECTED["ntu60-xsub"]


def test_missing_lists_are_read_past_their_header(shared_data):
    meta = shared_data / "ntu" / "meta"
    assert len(read_name_list(meta / "NTU_RGBD_samples_with_missing_skeletons.txt")) == 302
    assert len(read_name_list(meta / "NTU_RGBD120_samples_with_missing_skeletons.txt")) == 535


def test_parse_name_and_rules():
    sample = parse_ntu_name("S018C002P045R001A061.skeleton")
    assert (sample.setup, sample.camera, sample.performer, sample.replication, sample.action) == (
        18,
        2,
        45,
        1,
        61,
    )
    assert sample.label == 60 and sample.name == "S018C002P045R001A061" and not sample.in_ntu60
    assert is_training_sample(sample, "ntu120-xsub") and is_training_sample(sample, "ntu120-xset")
    assert not is_training_sample(parse_ntu_name("S001C001P003R001A001"), "ntu60-xview")


@pytest.mark.parametrize(
    "bad", ["S01C002P003R002A013", "S001C002P003R002A013x", "hello", "S000C001P001R001A001"]
)
def test_bad_names_raise_with_the_pattern(bad):
    with pytest.raises(DataFormatError, match="SsssCcccPpppRrrrAaaa|out of range"):
        parse_ntu_name(bad, source=f"/raw/{bad}.skeleton")


def test_unknown_benchmark():
    with pytest.raises(ValueError, match="unknown benchmark 'ntu60-xset'"):
        split_names(["S001C001P001R001A001"], "ntu60-xset")


def test_class_names():
    assert len(NTU120_CLASS_NAMES) == 120 and len(set(NTU120_CLASS_NAMES)) == 120
    assert NTU60_CLASS_NAMES == NTU120_CLASS_NAMES[:60]
    assert NTU60_CLASS_NAMES[22] == "hand waving" and NTU120_CLASS_NAMES[119].startswith("finger-guessing")
    assert NW_UCLA_CLASS_NAMES[0] == "pick up with one hand" and len(NW_UCLA_CLASS_NAMES) == 10
