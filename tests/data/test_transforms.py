"""STTFormer's crop-resize, rotation and streams; the batched path equals the per-sample one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skeletonmae.config import FieldValueError
from skeletonmae.data.layouts import get_layout
from skeletonmae.data.random_streams import uniform_streams
from skeletonmae.data.transforms import (
    DRAWS_PER_SAMPLE,
    body_size,
    crop_windows,
    face_forward,
    minmax_box,
    rotation_matrices,
    to_stream,
    transform_batch,
)
from skeletonmae.run_config import TransformConfig


def _data(count: int = 6, frames: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = np.array([1, 2, 40, 64, 150, 300][:count])
    data = np.zeros((count, 3, frames, 25, 2), np.float32)
    for row, length in enumerate(lengths):
        data[row, :, :length, :, 0] = rng.normal(size=(3, length, 25))
    return data, lengths


def _axis_rotation(axis: int, angle: float) -> np.ndarray:
    """STTFormer's single-axis matrices, written out by hand."""
    c, s = np.cos(angle), np.sin(angle)
    return {
        0: np.array([[1, 0, 0], [0, c, s], [0, -s, c]]),
        1: np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]]),
        2: np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]]),
    }[axis]


def _reference(
    sample: np.ndarray, length: int, config: TransformConfig, train: bool, u: np.ndarray
) -> np.ndarray:
    """The feeder as STTFormer writes it: slice the crop, F.interpolate (bilinear), rotate with torch."""
    valid = max(length, 1)
    if train:
        p = config.crop_range[0] + u[0] * (config.crop_range[1] - config.crop_range[0])
        size = min(max(int(np.floor(valid * p)), config.min_crop_frames), valid)
        bias = int(np.floor(u[1] * (valid - size + 1)))
        crop = sample[:, bias : bias + size]
    else:
        bias = int((1 - config.test_crop) * valid / 2)
        crop = sample[:, bias : valid - bias]
    channels, size, joints, persons = crop.shape
    flat = torch.tensor(crop).permute(0, 2, 3, 1).reshape(1, 1, channels * joints * persons, size)
    resized = F.interpolate(
        flat, size=(channels * joints * persons, config.num_frames), mode="bilinear", align_corners=False
    )
    x = resized.reshape(channels, joints, persons, config.num_frames).permute(0, 3, 1, 2)
    if train and config.rotation > 0:
        angles = (u[2:5] * 2 - 1) * config.rotation
        matrix = _axis_rotation(2, angles[2]) @ _axis_rotation(1, angles[1]) @ _axis_rotation(0, angles[0])
        x = torch.einsum("ij,jtvm->itvm", torch.tensor(matrix, dtype=torch.float32), x)
    return x.numpy()


@pytest.mark.parametrize("train", [True, False])
def test_matches_the_sttformer_feeder(train):
    data, lengths = _data()
    config = TransformConfig()
    u = uniform_streams(3, 1, np.arange(len(lengths)), 5)
    out = transform_batch(data, np.arange(len(lengths)), lengths, config, train=train, uniforms=u)
    assert out.shape == (6, 3, 120, 25, 2) and out.dtype == np.float32
    for row, length in enumerate(lengths):
        np.testing.assert_allclose(out[row], _reference(data[row], length, config, train, u[row]), atol=2e-5)


def test_batch_equals_single_samples_in_any_order():
    data, lengths = _data()
    config = TransformConfig(stream="bone")
    parents = get_layout("ntu25").parent_index()
    rows = np.array([4, 0, 5, 2, 2, 1])
    u = uniform_streams(0, 7, rows, 5)
    batch = transform_batch(data, rows, lengths[rows], config, train=True, uniforms=u, parents=parents)
    for k in range(len(rows)):
        single = transform_batch(
            data,
            rows[k : k + 1],
            lengths[rows[k : k + 1]],
            config,
            train=True,
            uniforms=u[k : k + 1],
            parents=parents,
        )
        np.testing.assert_array_equal(batch[k], single[0])


def test_crop_windows():
    config = TransformConfig()
    start, size = crop_windows(np.array([100, 1, 0, 300]), config, False, None)
    assert start.tolist() == [2, 0, 0, 7] and size.tolist() == [96, 1, 1, 286]
    u = np.array([[0.0, 0.999], [0.999, 0.0], [0.5, 0.5], [0.0, 0.0]])
    start, size = crop_windows(np.array([300, 300, 10, 100]), config, True, u)
    assert size.tolist() == [150, 299, 10, 64]  # p=0.5 -> 150; p~1 -> 299; short: whole; at least 64
    assert start.tolist() == [150, 0, 0, 0]


def test_one_frame_sequence_is_repeated():
    data, lengths = _data()
    out = transform_batch(
        data,
        np.array([0]),
        lengths[:1],
        TransformConfig(rotation=0),
        train=True,
        uniforms=uniform_streams(0, 0, np.array([0]), 5),
    )
    np.testing.assert_allclose(out[0], np.repeat(data[0][:, :1], 120, axis=1), atol=1e-6)


def test_rotation_matrices():
    angles = np.array([[0.1, -0.2, 0.3], [0.0, 0.0, 0.0]])
    matrices = rotation_matrices(angles)
    expected = _axis_rotation(2, 0.3) @ _axis_rotation(1, -0.2) @ _axis_rotation(0, 0.1)
    np.testing.assert_allclose(matrices[0], expected, atol=1e-6)
    np.testing.assert_allclose(matrices[1], np.eye(3), atol=1e-7)
    np.testing.assert_allclose(matrices[0] @ matrices[0].T, np.eye(3), atol=1e-6)


def test_rotation_keeps_absent_persons_zero_and_lengths():
    data, lengths = _data()
    u = uniform_streams(1, 0, np.arange(6), 5)
    out = transform_batch(data, np.arange(6), lengths, TransformConfig(), train=True, uniforms=u)
    assert not out[..., 1].any()
    rotated = np.linalg.norm(out[..., 0], axis=1)  # (B, T, V) lengths of the xyz vectors
    unrotated = np.linalg.norm(
        transform_batch(data, np.arange(6), lengths, TransformConfig(rotation=0), train=True, uniforms=u)[
            ..., 0
        ],
        axis=1,
    )
    np.testing.assert_allclose(rotated, unrotated, rtol=1e-4, atol=1e-5)


def test_streams():
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 25, 2)).astype(np.float32)
    parents = get_layout("ntu25").parent_index()
    bone = to_stream(x, "bone", parents)
    np.testing.assert_array_equal(bone[:, :, :, 3], x[:, :, :, 3] - x[:, :, :, 2])  # head - neck
    assert not bone[:, :, :, 0].any()  # the root has no bone
    motion = to_stream(x, "motion")
    np.testing.assert_array_equal(motion[:, :, 1], x[:, :, 2] - x[:, :, 1])
    assert not motion[:, :, -1].any()
    with pytest.raises(ValueError, match="needs the layout's parents"):
        to_stream(x, "bone")
    bone_motion = to_stream(x, "bone_motion", parents)  # the motion of the bone stream
    np.testing.assert_allclose(bone_motion[:, :, 1, 3], bone[:, :, 2, 3] - bone[:, :, 1, 3], atol=1e-6)
    np.testing.assert_array_equal(bone_motion, to_stream(bone, "motion"))
    assert not bone_motion[:, :, -1].any() and not bone_motion[:, :, :, 0].any()


@pytest.mark.parametrize("channels,layout", [(3, "nw_ucla20"), (2, "coco17")])
def test_every_stream_runs_through_the_transform_in_2d_and_3d(channels, layout):
    """Streams act on the positions only; a 2D keypoint score channel passes through."""
    definition = get_layout(layout)
    data = (
        np.random.default_rng(1)
        .normal(size=(3, channels + 1, 10, definition.num_joints, 1))
        .astype(np.float32)
    )
    lengths = np.array([10, 8, 6])
    for stream in ("joint", "bone", "motion", "bone_motion"):
        config = TransformConfig(num_frames=6, min_crop_frames=4, stream=stream)
        x = transform_batch(
            data,
            np.arange(3),
            lengths,
            config,
            train=False,
            parents=definition.parent_index(),
            spatial_dims=channels,
        )
        assert x.shape == (3, channels + 1, 6, definition.num_joints, 1) and np.isfinite(x).all()
        joint = transform_batch(
            data,
            np.arange(3),
            lengths,
            TransformConfig(num_frames=6),
            train=False,
            parents=definition.parent_index(),
            spatial_dims=channels,
        )
        np.testing.assert_array_equal(x[:, channels:], joint[:, channels:])  # the score channel


def test_config_validation_names_the_field():
    with pytest.raises(FieldValueError, match="crop_range"):
        TransformConfig(crop_range=(0.9, 0.5))
    with pytest.raises(FieldValueError, match="stream: must be one of"):
        TransformConfig(stream="velocity")
    with pytest.raises(ValueError, match="training transforms need uniforms"):
        transform_batch(*_data()[:1], np.array([0]), np.array([5]), TransformConfig(), train=True)


def test_uniform_streams_depend_only_on_seed_epoch_index():
    a = uniform_streams(5, 2, np.array([10, 11, 12]), 5)
    np.testing.assert_array_equal(a[1], uniform_streams(5, 2, np.array([11]), 5)[0])
    assert not np.array_equal(a, uniform_streams(5, 3, np.array([10, 11, 12]), 5))
    assert not np.array_equal(a, uniform_streams(6, 2, np.array([10, 11, 12]), 5))
    big = uniform_streams(0, 0, np.arange(20000), 5)
    assert 0 <= big.min() and big.max() < 1 and abs(big.mean() - 0.5) < 0.01


def _people(count=4, frames=10, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(count, 3, frames, 20, 1)).astype(np.float32)
    return data, np.full(count, frames)


def test_normalize_scale_makes_every_body_the_same_size_in_train_and_test():
    data, lengths = _people()
    data[1] *= 5.0  # a much larger subject
    config = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.0, normalize_scale=True)
    rows = np.arange(4)
    test = transform_batch(data, rows, lengths, config, train=False)
    assert np.allclose(body_size(test), 1.0, atol=1e-4)
    uniforms = uniform_streams(0, 0, rows, DRAWS_PER_SAMPLE)
    train = transform_batch(data, rows, lengths, config, train=True, uniforms=uniforms)
    assert np.allclose(body_size(train), 1.0, atol=1e-4)


def test_minmax_normalize_spans_minus_one_to_one_per_axis_after_the_rotation():
    data, lengths = _people()
    data[1] = data[1] * 5.0 + 3.0  # a larger subject, far from the origin
    rows = np.arange(4)
    uniforms = uniform_streams(0, 0, rows, DRAWS_PER_SAMPLE)
    config = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.5, minmax_normalize=True)
    for train in (False, True):
        out = transform_batch(data, rows, lengths, config, train=train, uniforms=uniforms)
        assert np.allclose(out.min(axis=(2, 3, 4)), -1.0) and np.allclose(out.max(axis=(2, 3, 4)), 1.0)
    plain = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.5)
    rotated = transform_batch(data, rows, lengths, plain, train=True, uniforms=uniforms)
    assert np.allclose(out, minmax_box(rotated), atol=1e-5)  # normalised after the rotation
    # the same shape at another place and size gives the same output
    assert np.allclose(minmax_box(data[:1] * 7.0 - 2.0), minmax_box(data[:1]), atol=1e-5)


def test_minmax_box_keeps_absent_persons_and_padding_zero():
    data = np.random.default_rng(0).normal(size=(2, 3, 8, 20, 2)).astype(np.float32)
    data[0, :, :, :, 1] = 0.0  # no second person
    data[1, :, 5:] = 0.0  # padding
    data[1, :, 0, 0, 0] = 0.0  # a centre joint exactly at the origin still counts
    out = minmax_box(data)
    assert not out[0, :, :, :, 1].any() and not out[1, :, 5:].any()
    assert np.allclose(out[0, :, :, :, 0].min(axis=(1, 2)), -1.0)
    assert np.allclose(out[0, :, :, :, 0].max(axis=(1, 2)), 1.0)
    assert out[1, :, 0, 0, 0].any()
    assert not minmax_box(np.zeros((1, 3, 4, 5, 1), np.float32)).any()


def test_random_scale_uses_the_sixth_draw_and_not_the_earlier_ones():
    data, lengths = _people()
    rows = np.arange(4)
    uniforms = uniform_streams(0, 0, rows, DRAWS_PER_SAMPLE)
    plain = TransformConfig(num_frames=10, min_crop_frames=10)
    scaled = TransformConfig(num_frames=10, min_crop_frames=10, scale_range=(0.5, 1.5))
    a = transform_batch(data, rows, lengths, plain, train=True, uniforms=uniforms[:, :5])
    b = transform_batch(data, rows, lengths, scaled, train=True, uniforms=uniforms)
    factor = 0.5 + uniforms[:, 5]
    assert np.allclose(b, a * factor[:, None, None, None, None].astype(np.float32), atol=1e-5)
    assert np.allclose(
        transform_batch(data, rows, lengths, scaled, train=False),
        transform_batch(data, rows, lengths, plain, train=False),
    )
    with pytest.raises(ValueError, match=r"\(4, 6\)"):
        transform_batch(data, rows, lengths, scaled, train=True, uniforms=uniforms[:, :5])


def test_rotation_axes_limit_each_axis_on_its_own():
    data, lengths = _people()
    rows = np.arange(4)
    uniforms = uniform_streams(0, 0, rows, DRAWS_PER_SAMPLE)
    vertical_only = TransformConfig(num_frames=10, min_crop_frames=10, rotation_axes=(0.0, 1.0, 0.0))
    out = transform_batch(data, rows, lengths, vertical_only, train=True, uniforms=uniforms)
    still = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.0)
    base = transform_batch(data, rows, lengths, still, train=True, uniforms=uniforms)
    assert np.allclose(out[:, 1], base[:, 1], atol=1e-5)  # y is the axis: untouched
    assert not np.allclose(out[:, 0], base[:, 0])
    with pytest.raises(FieldValueError, match="rotation_axes"):
        TransformConfig(rotation_axes=(0.1, -1.0, 0.0))


UCLA_PAIRS = np.asarray(get_layout("nw_ucla20").left_right)


def test_face_forward_removes_a_turn_about_the_vertical_axis():
    data, _ = _people(count=3)
    data[2, :, 4:] = 0.0  # padding stays zero
    out = face_forward(data, UCLA_PAIRS)
    across = (out[:, :, :, UCLA_PAIRS[:, 1]] - out[:, :, :, UCLA_PAIRS[:, 0]]).sum(axis=(2, 3, 4))  # (B, 3)
    assert np.allclose(across[:, 2], 0.0, atol=1e-4) and (across[:, 0] > 0).all()  # right-to-left on +x
    assert np.allclose(out[:, 1], data[:, 1])  # heights unchanged
    assert not out[2, :, 4:].any()
    for angle in (0.7, -2.5, np.pi):  # the same body seen from another azimuth aligns to the same pose
        turned = np.einsum("ij,bjtvm->bitvm", _axis_rotation(1, angle).astype(np.float32), data)
        assert np.allclose(face_forward(turned, UCLA_PAIRS), out, atol=1e-4)
    assert not face_forward(np.zeros((1, 3, 4, 20, 1), np.float32), UCLA_PAIRS).any()


def test_align_facing_runs_before_the_random_rotation_in_train_and_test():
    data, lengths = _people()
    rows = np.arange(4)
    uniforms = uniform_streams(0, 0, rows, DRAWS_PER_SAMPLE)
    aligned = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.0, align_facing=True)
    test = transform_batch(data, rows, lengths, aligned, train=False, pairs=UCLA_PAIRS)
    assert np.allclose(test, face_forward(data, UCLA_PAIRS), atol=1e-5)
    rotated = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.5, align_facing=True)
    train = transform_batch(data, rows, lengths, rotated, train=True, uniforms=uniforms, pairs=UCLA_PAIRS)
    plain = TransformConfig(num_frames=10, min_crop_frames=10, rotation=0.5)
    expected = transform_batch(test, rows, lengths, plain, train=True, uniforms=uniforms)
    assert np.allclose(train, expected, atol=1e-4)


def test_align_facing_explains_2d_data_and_layouts_without_pairs():
    config = TransformConfig(num_frames=4, min_crop_frames=4, rotation=0.0, align_facing=True)
    data, rows, lengths = np.ones((1, 3, 4, 20, 1), np.float32), np.arange(1), np.full(1, 4)
    with pytest.raises(ValueError, match="this data is 2D"):
        transform_batch(data, rows, lengths, config, train=False, spatial_dims=2, pairs=UCLA_PAIRS)
    with pytest.raises(ValueError, match="left_right joint pairs; this layout has none"):
        transform_batch(data, rows, lengths, config, train=False, pairs=np.zeros((0, 2), int))
