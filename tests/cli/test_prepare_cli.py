"""`skeletonmae prepare ...` through its own sub-parser."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from cli_runner import run_cli  # noqa: E402

from skeletonmae.data.store import load_split, read_manifest


def _run(argv: list[str]) -> int:
    return run_cli(argv)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    assert _run(["prepare", "synthetic", "--out", str(folder), "--samples", "12", "--seed", "2"]) == 0
    return folder


def test_prepare_ntu(raw, tmp_path, capsys):
    code = _run(
        [
            "prepare",
            "ntu",
            "--raw",
            str(raw),
            "--out",
            str(tmp_path / "ds"),
            "--benchmark",
            "ntu120-xsub",
            "--workers",
            "1",
            "--no-progress",
            "--dtype",
            "float16",
        ]
    )
    assert code == 0
    assert "prepared" in capsys.readouterr().out
    split = load_split(tmp_path / "ds" / "train")
    assert split.meta["benchmark"] == "ntu120-xsub" and split.data.dtype == np.float16
    assert (
        read_manifest(tmp_path / "ds")["counts"]["train"] + read_manifest(tmp_path / "ds")["counts"]["test"]
        == 12
    )


def test_strict_exit_code(raw, tmp_path, capsys):
    bad = tmp_path / "raw"
    shutil.copytree(raw, bad)
    first = sorted(bad.glob("*.skeleton"))[0]
    first.write_text(first.read_text().replace("\n25\n", "\n24\n", 1))
    args = [
        "prepare",
        "ntu",
        "--raw",
        str(bad),
        "--out",
        str(tmp_path / "ds"),
        "--workers",
        "1",
        "--no-progress",
    ]
    assert _run(args) == 0  # bad files are skipped and listed
    assert _run(args + ["--strict"]) == 1
    captured = capsys.readouterr()
    assert "joint count 24, expected 25" in captured.err
    assert "skipped 1 file(s) (1 bad)" in captured.out


def test_nw_ucla_subset(skeleton_files, tmp_path):
    raw = tmp_path / "all_sqe"
    raw.mkdir()
    for path in sorted(skeleton_files.nw_ucla.glob("a0[12]_s01_*.json")):
        shutil.copy(path, raw)
    assert (
        _run(
            [
                "prepare",
                "nw-ucla",
                "--raw",
                str(raw),
                "--out",
                str(tmp_path / "ucla"),
                "--workers",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    test = load_split(tmp_path / "ucla" / "test")
    assert all(name.endswith("_v03") for name in test.names) and test.data.shape[-1] == 1


def test_convert(raw, tmp_path, capsys):
    _run(
        [
            "prepare",
            "ntu",
            "--raw",
            str(raw),
            "--out",
            str(tmp_path / "ds"),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert (
        _run(["prepare", "convert", str(tmp_path / "ds"), str(tmp_path / "x.npz"), "--to", "ctrgcn-npz"]) == 0
    )
    assert _run(["prepare", "convert", str(tmp_path / "x.npz"), str(tmp_path / "back")]) == 0
    np.testing.assert_array_equal(
        load_split(tmp_path / "back" / "test").data, load_split(tmp_path / "ds" / "test").data
    )
    assert _run(["prepare", "convert", str(tmp_path / "missing.npz"), str(tmp_path / "y")]) == 1
    assert "not found" in capsys.readouterr().err


def test_missing_raw_folder(tmp_path, capsys):
    assert (
        _run(
            ["prepare", "ntu", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--no-progress"]
        )
        == 1
    )
    assert "raw data folder not found" in capsys.readouterr().err
