"""``skeletonmae export``: files, sidecar, parity on real inputs, refusals."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))
from cli_runner import run_cli  # noqa: E402
from inference_fixtures import TrainedModels, first_ntu_file, single_torch_thread, trained_models  # noqa: E402,F401

from skeletonmae.inference.export import run_exported  # noqa: E402

MISSING_ONNX = [
    name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None
]
needs_onnx = pytest.mark.skipif(
    bool(MISSING_ONNX),
    reason=f"optional ONNX packages not installed: {', '.join(MISSING_ONNX)} (pip install -e .[onnx])",
)


@pytest.fixture(scope="session")
def models(tmp_path_factory, skeleton_files) -> TrainedModels:
    return trained_models(tmp_path_factory.getbasetemp(), skeleton_files)


def run(argv, capsys):
    return run_cli(argv, capsys)


@needs_onnx
def test_onnx_export_with_parity_on_real_files(models, skeleton_files, tmp_path, capsys):
    out = tmp_path / "ntu.onnx"
    code, stdout, err = run(
        [
            "export",
            str(models.ntu_finetune),
            "--format",
            "onnx",
            "--out",
            str(out),
            "--check",
            str(skeleton_files.ntu),
        ],
        capsys,
    )
    assert code == 0, err
    assert "parity OK on 4 input sequence(s)" in stdout
    sidecar = json.loads(Path(f"{out}.json").read_text())
    assert sidecar["input"]["shape"] == ["N", 3, 12, 25, 2]
    assert sidecar["class_names"][0] == "drink water" and sidecar["layout"] == "ntu25"
    assert sidecar["parity"]["ok"] and sidecar["test_transform"]["test_crop"] == 0.95
    logits = run_exported(out, np.zeros((3, 3, 12, 25, 2), np.float32))
    assert logits.shape == (3, 60)


@needs_onnx
def test_onnx_export_default_path_and_parity(models, skeleton_files, tmp_path, capsys):
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(Path(models.nw_finetune).read_bytes())
    files = sorted(skeleton_files.nw_ucla.glob("a0[1-3]_s02_e00_v03.json"))
    code, stdout, err = run(
        ["export", str(checkpoint), "--format", "onnx", "--check", *map(str, files)], capsys
    )
    assert code == 0, err
    assert (tmp_path / "best.onnx").is_file() and (tmp_path / "best.onnx.json").is_file()
    assert f"parity OK on {len(files)} input sequence(s)" in stdout


def test_refusals_exit_2(models, skeleton_files, tmp_path, capsys):
    code, _, err = run(
        ["export", str(models.nw_pretrain), "--format", "onnx", "--out", str(tmp_path / "m.onnx")],
        capsys,
    )
    assert code == 2 and "no trained classifier head" in err
    wrong = first_ntu_file(skeleton_files)
    code, _, err = run(
        [
            "export",
            str(models.nw_finetune),
            "--format",
            "onnx",
            "--out",
            str(tmp_path / "m.onnx"),
            "--check",
            str(wrong),
        ],
        capsys,
    )
    assert code == 2 and "25 joints" in err
    assert not (tmp_path / "m.onnx").exists()


def test_missing_onnx_packages_give_an_install_hint(models, tmp_path, capsys, monkeypatch):
    from skeletonmae.inference.export import onnx_runtime_available

    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert not onnx_runtime_available()
    code, _, err = run(
        ["export", str(models.nw_finetune), "--format", "onnx", "--out", str(tmp_path / "m.onnx")], capsys
    )
    assert code == 2 and "pip install -e .[onnx]" in err and "onnxscript" in err
    assert not (tmp_path / "m.onnx").exists()
