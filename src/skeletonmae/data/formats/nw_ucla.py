"""Northwestern-UCLA Multiview Action3D in CTR-GCN's ``all_sqe`` JSON release: one file per sequence,
``{"file_name": "a01_s01_e00_v01", "skeletons": [[[x, y, z] * 20] * T], "label": 1..10}``, names
``aAA_sSS_eEE_vVV`` (action, subject, take, view). Standard protocol: views 1, 2 train, 3 tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeletonmae.data.classes import NW_UCLA_CLASS_NAMES
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.samples import SkeletonSamples

NUM_JOINTS = 20
NUM_CLASSES = 10
TRAIN_VIEWS = frozenset((1, 2))
_NAME_PATTERN = re.compile(r"^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})$")


@dataclass(frozen=True)
class NwUclaSequence:
    """One sequence: ``joints`` ``(T, 20, 3)`` float32 in camera space, ``label`` 0-based."""

    name: str
    joints: np.ndarray
    label: int
    action: int
    subject: int
    take: int
    view: int


def parse_nw_ucla_name(name: str, source: Path | str | None = None) -> tuple[int, int, int, int]:
    """``(action, subject, take, view)`` of ``aAA_sSS_eEE_vVV``."""
    match = _NAME_PATTERN.match(name)
    if match is None:
        raise DataFormatError(
            source or name,
            f"name {name!r} does not match the NW-UCLA pattern aAA_sSS_eEE_vVV (e.g. a01_s01_e00_v01)",
            key="file_name",
        )
    action, subject, take, view = (int(group) for group in match.groups())
    return action, subject, take, view


def read_nw_ucla_file(path: str | Path) -> NwUclaSequence:
    """Read one ``all_sqe`` JSON file, checking every key (errors name the file and the key)."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from error
    except (OSError, UnicodeDecodeError) as error:
        raise DataFormatError(path, f"cannot read the file ({error})") from error
    if not isinstance(record, dict):
        raise DataFormatError(path, f"expected a JSON object, got {type(record).__name__}")
    for key in ("skeletons", "label"):
        if key not in record:
            raise DataFormatError(path, "missing; expected keys file_name, skeletons, label", key=key)
    name = str(record.get("file_name", path.stem))
    ids = parse_nw_ucla_name(name, path)
    joints = _joints(record["skeletons"], path)
    label = record["label"]
    if not isinstance(label, int) or isinstance(label, bool) or not 1 <= label <= NUM_CLASSES:
        raise DataFormatError(
            path, f"expected an integer label in 1..{NUM_CLASSES}, got {label!r}", key="label"
        )
    return NwUclaSequence(name, joints, label - 1, *ids)


def _joints(skeletons: object, path: Path) -> np.ndarray:
    try:
        joints = np.asarray(skeletons, dtype=np.float64)
    except (ValueError, TypeError):
        raise DataFormatError(
            path, "expected a (T, 20, 3) array of numbers (ragged or non-numeric values)", key="skeletons"
        ) from None
    if joints.size == 0:
        raise DataFormatError(path, "no frames (empty sequence)", key="skeletons")
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
        raise DataFormatError(
            path, f"expected shape (T, {NUM_JOINTS}, 3), got {joints.shape}", key="skeletons"
        )
    if not np.isfinite(joints).all():
        frame = int(np.argwhere(~np.isfinite(joints))[0][0])
        raise DataFormatError(path, f"non-finite value (NaN or inf) in frame {frame}", key="skeletons")
    return joints.astype(np.float32)


def centered_sample(sequence: NwUclaSequence, center_joint: int = 1) -> np.ndarray:
    """``(C=3, T, V=20, M=1)`` float32, translated so the centre joint of the first frame is the origin."""
    joints = sequence.joints - sequence.joints[0, center_joint]  # (T, V, 3)
    return np.ascontiguousarray(joints.transpose(2, 0, 1)[..., None])


def read_nw_ucla_folder(folder: str | Path) -> dict[str, SkeletonSamples]:
    """``train`` (views 1, 2) and ``test`` (view 3) ``(N, 3, T_max, 20, 1)`` of ``folder``'s ``*.json``."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise DataFormatError(folder, "no *.json files; point at the all_sqe folder of NW-UCLA")
    sequences = [read_nw_ucla_file(path) for path in paths]
    frames = max(sequence.joints.shape[0] for sequence in sequences)
    splits = {}
    for split, training in (("train", True), ("test", False)):
        members = [s for s in sequences if (s.view in TRAIN_VIEWS) == training]
        joints = [centered_sample(s) for s in members]  # (3, T, 20, 1) each
        labels, names = [s.label for s in members], [s.name for s in members]
        splits[split] = SkeletonSamples.from_sequences(
            joints, labels, names, "nw_ucla20", NW_UCLA_CLASS_NAMES, shape=(3, NUM_JOINTS, 1), frames=frames
        )
    return splits
