"""NTU sample names, the rules of the four benchmark splits, the class names (the split counts from the
official name lists: tests/real_data/test_ntu_name_lists.py)."""

from __future__ import annotations

import pytest

from skeletonmae.data.classes import NTU60_CLASS_NAMES, NTU120_CLASS_NAMES, NW_UCLA_CLASS_NAMES
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.splits import in_benchmark, is_training_sample, parse_ntu_name


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
        in_benchmark(parse_ntu_name("S001C001P001R001A001"), "ntu60-xset")


def test_class_names():
    assert len(NTU120_CLASS_NAMES) == 120 and len(set(NTU120_CLASS_NAMES)) == 120
    assert NTU60_CLASS_NAMES == NTU120_CLASS_NAMES[:60]
    assert NTU60_CLASS_NAMES[22] == "hand waving" and NTU120_CLASS_NAMES[119].startswith("finger-guessing")
    assert NW_UCLA_CLASS_NAMES[0] == "pick up with one hand" and len(NW_UCLA_CLASS_NAMES) == 10
