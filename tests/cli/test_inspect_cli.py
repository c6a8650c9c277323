"""`skeletonmae inspect FILE [--json]`."""

from __future__ import annotations

import json

from cli_runner import run_cli  # noqa: E402


def _run(argv: list[str]) -> int:
    return run_cli(argv)


def test_inspect_raw_file(shared_data, capsys):
    path = shared_data / "ntu" / "skeleton" / "S003C001P015R001A034.skeleton"
    assert _run(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "frames: 71" in out and "joints: 25" in out and "value_range: x [" in out
    assert _run(["inspect", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 71 and len(summary["bodies"]) == 1 and summary["bodies"][0]["frames"] == 71
    assert summary["value_range"]["z"][0] > 2.0  # metres from the camera


def test_inspect_datasets(shared_data, capsys):
    assert (
        _run(["inspect", str(shared_data / "ntu" / "stgcn" / "example_ntu_stgcn_layout.npy"), "--json"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    split = summary["splits"]["train"]
    assert split["frames_valid"]["max"] == 72 and split["persons_present"]["max"] == 1
    assert split["shape_NCTVM"] == [1, 3, 300, 25, 2]
    assert _run(["inspect", str(shared_data / "pyskl" / "example_ucf101_2d.pkl")]) == 0
    assert "coco17" in capsys.readouterr().out


def test_inspect_bad_input(tmp_path, capsys):
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("2\n1\n")
    assert _run(["inspect", str(bad)]) == 1
    assert "S001C001P001R001A001.skeleton, line 3" in capsys.readouterr().err
    assert _run(["inspect", str(tmp_path / "nothing.npz")]) == 1
