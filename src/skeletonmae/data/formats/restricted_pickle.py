"""Pickles that may only hold data (ST-GCN labels, pyskl annotations): unpickling resolves only an
allow-list of globals (builtin containers and scalars, numpy's array reconstruction); any other -
``os.system``, ``builtins.eval``, a class from some package - raises
:class:`~skeletonmae.data.errors.ForbiddenPickleError` naming the file and the global before anything runs.
"""

from __future__ import annotations

import codecs
import collections
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from skeletonmae.atomic import atomic_path
from skeletonmae.data.errors import DataFormatError, ForbiddenPickleError


def _allowed_globals() -> dict[tuple[str, str], Any]:
    core = getattr(np, "_core", None) or np.core  # numpy >= 2 (np.core is a deprecated alias there)
    builtins = (dict, list, tuple, set, frozenset, bytearray, bytes, str, int, float, complex, bool, slice)
    allowed: dict[tuple[str, str], Any] = {("builtins", kind.__name__): kind for kind in builtins}
    allowed[("collections", "OrderedDict")] = collections.OrderedDict
    allowed[("_codecs", "encode")] = codecs.encode  # bytes inside protocol-2 pickles of arrays
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = core.multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = core.multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = core.numeric._frombuffer  # protocol 5
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


_ALLOWED = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` whose ``find_class`` only returns allow-listed globals."""

    def __init__(self, stream: BinaryIO, source: Path | str) -> None:
        super().__init__(stream, encoding="latin1")  # latin1: arrays pickled under Python 2
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        module = "builtins" if module == "__builtin__" else module  # protocol 0-2 / Python 2 spelling
        found = _ALLOWED.get((module, name))
        if found is None and module.startswith("numpy.dtypes") and name.endswith("DType"):
            found = getattr(np.dtypes, name, None)  # numpy 2 dtype classes (data descriptors only)
        if found is None:
            raise ForbiddenPickleError(
                self.source,
                f"the pickle refers to the global {module}.{name}, which is not plain data (only builtin "
                "containers/scalars and numpy arrays are allowed); re-export the file with plain "
                "lists, dicts and numpy arrays",
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise ForbiddenPickleError(
            self.source, "the pickle uses persistent ids, which plain data never needs"
        )


def load_restricted_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` allowing only plain data (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            return RestrictedUnpickler(stream, path).load()
    except ForbiddenPickleError:
        raise
    except OSError as error:
        raise DataFormatError(path, f"cannot read the file ({error.strerror})") from error
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DataFormatError(
            path,
            f"not a readable pickle ({type(error).__name__}: {error}); the file is truncated or not a pickle",
        ) from error


def save_pickle_atomic(path: str | Path, content: Any) -> Path:
    """Pickle plain data (protocol 4) to ``path`` atomically."""
    with atomic_path(path) as temp:
        temp.write_bytes(pickle.dumps(content, protocol=4))
    return Path(path)
