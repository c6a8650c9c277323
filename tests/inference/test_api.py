"""``skeletonmae.load`` at the package top level, imported lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import skeletonmae
from skeletonmae.inference import predictor


def test_import_skeletonmae_does_not_import_torch():
    code = (
        "import sys, skeletonmae; assert 'torch' not in sys.modules, 'torch imported'; "
        "skeletonmae.load; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_load_is_the_inference_loader_and_unknown_names_raise():
    assert skeletonmae.load is predictor.load
    with pytest.raises(AttributeError, match="no attribute 'predict'"):
        skeletonmae.predict  # noqa: B018
