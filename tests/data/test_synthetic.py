"""The synthetic .skeleton generator: real format, balanced learnable classes, benchmark coverage."""

from __future__ import annotations

import numpy as np
import pytest

from skeletonmae.config import FieldValueError
from skeletonmae.data.ntu_preprocess import preprocess_skeleton
from skeletonmae.data.ntu_raw import parse_skeleton_file
from skeletonmae.data.splits import BENCHMARKS, in_benchmark, is_training_sample, parse_ntu_name
from skeletonmae.data.synthetic import SyntheticConfig, plan_names, write_synthetic_ntu
from skeletonmae.data.synthetic_motion import ACTIONS, BodyStyle, pose_sequence

ACTION_IDS = [action_id for action_id, _, _ in ACTIONS[:6]]  # the NTU ids of 6 synthetic classes


def test_files_are_deterministic_and_parse(tmp_path):
    first = write_synthetic_ntu(tmp_path / "a", 8, seed=4, two_body_fraction=0.5)
    second = write_synthetic_ntu(tmp_path / "b", 8, seed=4, two_body_fraction=0.5)
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_text() == b.read_text() for a, b in zip(first, second))
    for path in first:
        raw = parse_skeleton_file(path, full=True)
        assert 50 <= raw.num_frames <= 110
        z = raw.bodies[0].joints[..., 2]
        assert 1.5 < z.mean() < 4.5  # metres in front of the camera, like Kinect
        assert (raw.bodies[0].color_xy[..., 0] > 0).all() and (raw.bodies[0].color_xy[..., 0] < 1920).all()


def test_names_cover_every_benchmark_side_and_are_balanced():
    names = plan_names(72, SyntheticConfig(num_actions=6))
    assert len(set(names)) == 72
    assert np.bincount([n.action for n in names], minlength=61)[ACTION_IDS].tolist() == [12] * 6
    for benchmark in BENCHMARKS:
        for action in ACTION_IDS:
            sides = {
                is_training_sample(n, benchmark)
                for n in names
                if n.action == action and in_benchmark(n, benchmark)
            }
            assert sides == {True, False}, (benchmark, action)
    late = plan_names(40, SyntheticConfig(ntu120_fraction=1.0))
    assert all(n.setup >= 18 for n in late)


def test_actions_are_distinguishable():
    """Mean joint trajectories differ clearly between actions (so the classes are learnable)."""
    style = BodyStyle()
    poses = np.stack([pose_sequence(a, 60, style) for a in range(len(ACTIONS))])  # (A, T, V, 3)
    features = (poses - poses[:, :, :1]).reshape(len(ACTIONS), -1)  # relative to the spine base
    distances = np.linalg.norm(features[:, None] - features[None], axis=2)
    off_diagonal = distances[~np.eye(len(ACTIONS), dtype=bool)]
    assert off_diagonal.min() > 1.0
    assert len({action_id for action_id, _, _ in ACTIONS}) == len(ACTIONS)


def test_bodies_look_human():
    joints = pose_sequence(0, 30, BodyStyle(scale=1.0))
    height = joints[:, 3, 1] - joints[:, (15, 19), 1].min(axis=1)
    assert np.all((1.4 < height) & (height < 1.9))
    bone = np.linalg.norm(joints[:, 5] - joints[:, 4], axis=1)  # upper arm keeps its length
    np.testing.assert_allclose(bone, bone[0], rtol=1e-6)


def test_the_bystander_is_kept_and_vanishes_for_a_while(tmp_path):
    paths = write_synthetic_ntu(tmp_path, 6, two_body_fraction=1.0, ghost_fraction=0.0, seed=9)
    for path in paths:
        sample = preprocess_skeleton(parse_skeleton_file(path))
        assert sample.dropped == () and sample.present.any(axis=0).all()  # both people kept
        assert sample.present.all(axis=0).sum() == 1  # one of them (either may rank first) has a gap


def test_config_validation():
    with pytest.raises(FieldValueError, match="num_actions"):
        write_synthetic_ntu("/nonexistent", 3, num_actions=13)
    with pytest.raises(FieldValueError, match="two_body_fraction"):
        SyntheticConfig(two_body_fraction=1.5)
    with pytest.raises(ValueError, match="could not find 100000 distinct NTU names"):
        plan_names(100_000, SyntheticConfig(num_actions=1))
    assert parse_ntu_name(plan_names(1, SyntheticConfig())[0].name).action == 23
