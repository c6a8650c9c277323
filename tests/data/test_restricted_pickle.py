"""Pickles may hold data only: containers, scalars and numpy arrays; anything callable is refused."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from skeletonmae.data.errors import DataFormatError, ForbiddenPickleError
from skeletonmae.data.formats.restricted_pickle import load_restricted_pickle


class _RunsACommand:
    def __reduce__(self):
        return (os.system, ("echo should-never-run > pwned.txt",))


class _CallsEval:
    def __reduce__(self):
        return (eval, ("1 + 1",))


def _load(payload: bytes, folder):
    path = folder / "data.pkl"
    path.write_bytes(payload)
    return load_restricted_pickle(path)


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_round_trips(protocol, tmp_path):
    payload = {
        "keypoint": np.arange(12, dtype=np.float16).reshape(1, 2, 3, 2),
        "label": np.int64(3),
        "names": ["a", "b"],
        "pair": (1, 2.5, None, True),
        "set": {1, 2},
        "raw": b"\x00\x01",
        "objects": np.array([1, "x"], dtype=object),
    }
    loaded = _load(pickle.dumps(payload, protocol=protocol), tmp_path)
    np.testing.assert_array_equal(loaded["keypoint"], payload["keypoint"])
    assert loaded["keypoint"].dtype == np.float16
    assert loaded["label"] == 3 and loaded["names"] == ["a", "b"] and loaded["set"] == {1, 2}
    assert loaded["pair"] == (1, 2.5, None, True) and loaded["raw"] == b"\x00\x01"
    assert loaded["objects"].dtype == object and loaded["objects"].tolist() == [1, "x"]


def test_an_object_array_holding_a_callable_is_refused(tmp_path):
    """Object arrays pickle their items one by one: a callable among them is refused like any other."""
    payload = {"keypoint": np.array([1, _CallsEval()], dtype=object)}
    with pytest.raises(ForbiddenPickleError, match="builtins.eval"):
        _load(pickle.dumps(payload), tmp_path)


class _Persistent(pickle.Pickler):
    """Pickles every list as a persistent id: loading it would hand the id to ``persistent_load``."""

    def persistent_id(self, obj):
        return "outside-object" if isinstance(obj, list) else None


def test_persistent_ids_are_refused(tmp_path):
    import io

    buffer = io.BytesIO()
    _Persistent(buffer).dump({"annotations": [1, 2]})
    path = tmp_path / "persistent.pkl"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ForbiddenPickleError, match=rf"{path}.*persistent ids"):
        load_restricted_pickle(path)


@pytest.mark.parametrize("evil, name", [(_RunsACommand(), "system"), (_CallsEval(), "builtins.eval")])
def test_malicious_pickles_are_rejected_before_running(tmp_path, monkeypatch, evil, name):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "labels.pkl"
    path.write_bytes(pickle.dumps({"annotations": [evil]}))
    with pytest.raises(ForbiddenPickleError, match=name) as caught:
        load_restricted_pickle(path)
    assert str(path) in str(caught.value)
    assert not (tmp_path / "pwned.txt").exists()


def test_classes_from_packages_are_refused(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps(DataFormatError("a", "b")))
    with pytest.raises(ForbiddenPickleError, match="skeletonmae.data.errors.DataFormatError"):
        load_restricted_pickle(path)


def test_truncated_pickle(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"a": np.zeros(100)})[:50])
    with pytest.raises(DataFormatError, match="not a readable pickle"):
        load_restricted_pickle(path)
