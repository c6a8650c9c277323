"""The standard NTU denoising: length / spread filters, motion ranking, actor slots, centring."""

from __future__ import annotations

import numpy as np
import pytest

from skeletonmae.config import FieldValueError
from skeletonmae.data.errors import DataFormatError
from skeletonmae.data.ntu_preprocess import PreprocessConfig, body_motion, preprocess_skeleton
from skeletonmae.data.ntu_raw import RawBody, RawSkeleton, parse_skeleton_file
from skeletonmae.data.synthetic import write_synthetic_ntu


def _standing(frames: int, x: float = 0.0, wiggle: float = 0.0, seed: int = 0) -> np.ndarray:
    """(F, 25, 3): a tall narrow body (y-extent 1.6 m, x-extent 0.4 m) that moves by ``wiggle``."""
    rng = np.random.default_rng(seed)
    base = np.stack([rng.uniform(-0.2, 0.2, 25) + x, np.linspace(-0.8, 0.8, 25), np.full(25, 3.0)], axis=1)
    drift = wiggle * np.sin(np.linspace(0, 6, frames))[:, None, None] * np.array([1.0, 0.3, 0.5])
    return (base[None] + drift).astype(np.float32)


def _flat(frames: int) -> np.ndarray:
    """(F, 25, 3): wide and flat (x-extent 1.4 m, y-extent 0.1 m): a spread-noise body."""
    base = np.stack([np.linspace(-0.7, 0.7, 25), np.linspace(0, 0.1, 25), np.full(25, 2.5)], axis=1)
    return np.repeat(base[None], frames, axis=0).astype(np.float32)


def _body(body_id: str, frames, joints: np.ndarray) -> RawBody:
    count = len(frames)
    return RawBody(
        body_id,
        np.asarray(frames, np.int64),
        joints,
        np.zeros((count, 25, 2), np.float32),
        np.zeros((count, 25, 2), np.float32),
        np.zeros((count, 25, 4), np.float32),
        np.full((count, 25), 2, np.int8),
        np.zeros((count, 9), np.float32),
    )


def _raw(num_frames: int, *bodies: RawBody) -> RawSkeleton:
    per_frame = np.zeros(num_frames, np.int64)
    for body in bodies:
        per_frame[body.frames] += 1
    return RawSkeleton("S001C001P001R001A050", None, num_frames, per_frame, tuple(bodies))


def test_single_body_is_never_filtered_even_if_short():
    sample = preprocess_skeleton(_raw(5, _body("a", range(5), _flat(5))))
    assert sample.joints.shape[1] == 5 and sample.dropped == ()


def test_length_filter_drops_short_bodies_only_among_several():
    raw = _raw(
        40, _body("main", range(40), _standing(40, wiggle=0.1)), _body("ghost", range(3, 14), _standing(11))
    )
    sample = preprocess_skeleton(raw)
    assert sample.dropped == (("ghost", "length"),)
    assert sample.kept == (("main",), ())
    raw = _raw(
        40,
        _body("main", range(40), _standing(40, wiggle=0.2)),
        _body("twelve", range(3, 15), _standing(12, x=1.0)),
    )
    assert preprocess_skeleton(raw).kept == (("main",), ("twelve",))  # 12 frames > 11 survives


def test_spread_filter_and_motion_ranking():
    person = _body("person", range(30), _standing(30, wiggle=0.02))
    table = _body("table", range(30), _flat(30))
    mover = _body("mover", range(30), _standing(30, x=1.0, wiggle=0.3, seed=1))
    sample = preprocess_skeleton(_raw(30, table, person, mover))
    assert ("table", "spread") in sample.dropped
    assert sample.kept == (("mover",), ("person",))  # the larger motion becomes actor 1
    assert body_motion(mover.joints) > body_motion(person.joints)


def test_non_overlapping_bodies_share_actor_one_and_empty_frames_go():
    first = _body("first", range(0, 20), _standing(20, wiggle=0.3))
    later = _body("later", range(25, 45), _standing(20, x=0.5, wiggle=0.1))
    sample = preprocess_skeleton(_raw(50, first, later))  # frames 20-24 and 45-49 hold nobody
    assert sample.kept == (("first", "later"), ())
    assert sample.joints.shape[1] == 40
    assert sample.present[:, 0].all() and not sample.present[:, 1].any()


def test_a_body_that_vanishes_keeps_its_true_frames():
    main = _body("main", range(30), _standing(30, wiggle=0.3))
    frames = [f for f in range(30) if not 10 <= f < 14]
    other = _body("other", frames, _standing(30, x=1.0, wiggle=0.05)[frames])
    sample = preprocess_skeleton(_raw(30, main, other))
    assert sample.present[:, 1].tolist() == [not 10 <= f < 14 for f in range(30)]
    assert not sample.joints[:, 10:14, :, 1].any()
    np.testing.assert_allclose(sample.joints[:, 20, :, 1].T, other.joints[16] - main.joints[0, 1], atol=1e-6)


def test_third_overlapping_body_is_discarded_and_motion_filter_is_optional():
    a = _body("a", range(30), _standing(30, wiggle=0.3))
    b = _body("b", range(30), _standing(30, x=1.0, wiggle=0.2, seed=1))
    c = _body("c", range(30), _standing(30, x=-1.0, wiggle=0.1, seed=2))
    assert preprocess_skeleton(_raw(30, a, b, c)).dropped == (("c", "overlap"),)
    small = _standing(30) * np.float32(0.2) + np.float32([1.0, 0.0, 2.5])  # a compact object
    calm = _body("calm", range(30), small)
    assert body_motion(calm.joints) < 0.089925
    assert preprocess_skeleton(_raw(30, a, calm)).kept == (("a",), ("calm",))
    filtered = preprocess_skeleton(_raw(30, a, calm), PreprocessConfig(motion_filter=True))
    assert filtered.kept == (("a",), ()) and filtered.dropped == (("calm", "motion"),)


def test_errors_and_config_validation():
    with pytest.raises(DataFormatError, match="none of the 3 frames holds a body"):
        preprocess_skeleton(_raw(3))
    short = [_body(str(i), range(5), _standing(5, x=i)) for i in range(2)]
    with pytest.raises(DataFormatError, match="every body lasts at most 11 frames"):
        preprocess_skeleton(_raw(5, *short))
    with pytest.raises(FieldValueError, match="spread_frame_fraction"):
        PreprocessConfig(spread_frame_fraction=0)
    with pytest.raises(FieldValueError, match="motion_range"):
        PreprocessConfig(motion_range=(2.0, 1.0))


def test_generated_ghosts_are_removed(tmp_path):
    paths = write_synthetic_ntu(tmp_path, 10, two_body_fraction=0.0, ghost_fraction=1.0, seed=5)
    for path in paths:
        raw = parse_skeleton_file(path)
        assert len(raw.bodies) == 2
        sample = preprocess_skeleton(raw)
        assert len(sample.dropped) == 1 and sample.dropped[0][1] in ("length", "spread")
        assert not sample.present[:, 1].any()
