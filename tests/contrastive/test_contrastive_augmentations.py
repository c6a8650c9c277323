"""Skeleton augmentations: shapes kept, seedable, and each does what its name says."""

from __future__ import annotations

import math

import pytest
import torch

from skeletonmae.contrastive import augmentations as aug
from skeletonmae.run_config import AugmentationConfig

LEFT_RIGHT = ((1, 2), (3, 4))  # a toy 6-joint layout: joint 0 and 5 are central
CONFIG = AugmentationConfig()


def batch(n: int = 8, frames: int = 24, joints: int = 6, persons: int = 2, seed: int = 0) -> torch.Tensor:
    x = torch.randn(n, 3, frames, joints, persons, generator=torch.Generator().manual_seed(seed))
    x[:, :, :, :, 1] = 0.0  # second person absent, as in most NTU samples
    return x


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


AUGMENTATIONS = {
    "shear": lambda x, g: aug.shear(x, 0.5, g),
    "temporal_pad_crop": lambda x, g: aug.temporal_pad_crop(x, 6, g),
    "temporal_crop_resize": lambda x, g: aug.temporal_crop_resize(x, 0.5, g),
    "spatial_flip": lambda x, g: aug.spatial_flip(x, LEFT_RIGHT, 0.5, g),
    "rotate": lambda x, g: aug.rotate(x, 30.0, 1.0, g),
    "temporal_flip": lambda x, g: aug.temporal_flip(x, 0.5, g),
    "gaussian_noise": lambda x, g: aug.gaussian_noise(x, 0.01, 0.5, g),
    "gaussian_blur": lambda x, g: aug.gaussian_blur(x, 15, 0.1, 2.0, 0.5, g),
    "axis_mask": lambda x, g: aug.axis_mask(x, 0.5, g),
    "normal_augment": lambda x, g: aug.normal_augment(x, CONFIG, g),
    "extreme_augment": lambda x, g: aug.extreme_augment(x, CONFIG, LEFT_RIGHT, g),
}


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_augmentation_keeps_shape_and_is_seedable(name: str) -> None:
    x = batch()
    original = x.clone()
    function = AUGMENTATIONS[name]
    first, again, other = function(x, gen(1)), function(x, gen(1)), function(x, gen(2))
    assert first.shape == x.shape and first.dtype == x.dtype
    assert torch.equal(first, again), "same seed must give the same output"
    assert not torch.equal(first, other), "a different seed must give a different output"
    assert not torch.equal(first, x), "the augmentation changed nothing"
    assert torch.equal(x, original), "the input was modified in place"
    assert torch.isfinite(first).all()


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_augmentation_keeps_absent_persons_zero_and_global_rng(name: str) -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    out = AUGMENTATIONS[name](batch(), gen(5))
    assert torch.equal(torch.rand(3), expected_next), "the global RNG was used"
    assert torch.count_nonzero(out[..., 1]) == 0, "an absent person got non-zero coordinates"


def test_shear_matrix_has_unit_diagonal_and_bounded_off_diagonal() -> None:
    x = torch.zeros(4, 3, 1, 3, 1)
    for axis in range(3):
        x[:, axis, 0, axis, 0] = 1.0  # joint `axis` is the unit vector e_axis, so column j of S is joint j
    out = aug.shear(x, 0.5, gen(0))[:, :, 0, :, 0]  # (N, 3 coordinates, 3 joints) = S
    assert torch.allclose(torch.diagonal(out, dim1=1, dim2=2), torch.ones(4, 3))
    off = out[:, ~torch.eye(3, dtype=torch.bool)]
    assert off.abs().max() <= 0.5 and off.abs().max() > 0
    assert torch.equal(aug.shear(batch(), 0.0, gen(0)), batch())


def test_rotate_preserves_lengths_and_angles_are_bounded() -> None:
    x = batch()
    out = aug.rotate(x, 30.0, 1.0, gen(3))
    assert torch.allclose(out.norm(dim=1), x.norm(dim=1), atol=1e-5)
    angles = torch.tensor([[0.3, 0.0, 0.0], [0.0, 0.2, 0.0], [0.0, 0.0, -0.1]], dtype=torch.float64)
    for matrix, axis in zip(aug.rotation_matrices(angles), range(3)):
        assert torch.allclose(matrix @ matrix.T, torch.eye(3, dtype=torch.float64))
        assert math.isclose(float(torch.trace(matrix)), 1 + 2 * math.cos(float(angles[axis, axis])))
    zero = aug.rotate(x, 0.0, 0.0, gen(3))
    assert torch.allclose(zero, x)


def test_spatial_flip_swaps_pairs_and_is_an_involution() -> None:
    x = batch()
    flipped = aug.spatial_flip(x, LEFT_RIGHT, 1.0, gen(0))
    assert torch.equal(flipped[:, :, :, [0, 2, 1, 4, 3, 5]], x)
    assert torch.equal(aug.spatial_flip(flipped, LEFT_RIGHT, 1.0, gen(0)), x)
    assert torch.equal(aug.spatial_flip(x, LEFT_RIGHT, 0.0, gen(0)), x)


@pytest.mark.parametrize("pairs", [((0, 6),), ((1, 1),), ((1, 2), (2, 3))])
def test_left_right_permutation_rejects_bad_pairs(pairs) -> None:
    with pytest.raises(ValueError, match="left_right"):
        aug.left_right_permutation(6, pairs)


def test_temporal_flip_reverses_time() -> None:
    x = batch()
    assert torch.equal(aug.temporal_flip(x, 1.0, gen(0)), x.flip(2))
    assert torch.equal(aug.temporal_flip(x, 0.0, gen(0)), x)


def test_temporal_pad_crop_is_a_window_of_the_reflect_padded_sequence() -> None:
    frames = 24
    x = (
        torch.arange(frames, dtype=torch.float32)
        .view(1, 1, frames, 1, 1)
        .expand(5, 3, frames, 2, 1)
        .contiguous()
    )
    out = aug.temporal_pad_crop(x, 6, gen(4))
    padded = torch.cat(
        [torch.arange(3, -1, -1), torch.arange(frames), torch.arange(frames - 1, frames - 5, -1)]
    )
    for sample in out[:, 0, :, 0, 0]:
        starts = [s for s in range(9) if torch.equal(padded[s : s + frames].float(), sample)]
        assert starts, f"{sample.tolist()} is not a window of the padded sequence"
    assert torch.equal(aug.temporal_pad_crop(x, 0, gen(4)), x)


def test_temporal_crop_resize_keeps_order_and_full_ratio_is_identity() -> None:
    frames = 30
    x = (
        torch.arange(frames, dtype=torch.float32)
        .view(1, 1, frames, 1, 1)
        .expand(6, 3, frames, 2, 1)
        .contiguous()
    )
    out = aug.temporal_crop_resize(x, 0.5, gen(2))[:, 0, :, 0, 0]
    steps = out[:, 1:] - out[:, :-1]
    assert (steps >= 0).all() and (out[:, -1] - out[:, 0] >= frames * 0.5 - 2).all()
    assert torch.allclose(aug.temporal_crop_resize(x, 1.0, gen(2)), x)


def test_gaussian_noise_has_the_configured_scale() -> None:
    x = torch.zeros(4, 3, 200, 25, 1) + 1.0
    out = aug.gaussian_noise(x, 0.05, 1.0, gen(0))
    assert abs(float((out - x).std()) - 0.05) < 0.002
    assert torch.equal(aug.gaussian_noise(x, 0.05, 0.0, gen(0)), x)


def test_gaussian_blur_keeps_constants_and_smooths_a_spike() -> None:
    constant = torch.full((3, 3, 20, 4, 1), 2.5)
    assert torch.allclose(aug.gaussian_blur(constant, 15, 0.1, 2.0, 1.0, gen(0)), constant)
    spike = torch.zeros(3, 3, 21, 4, 1)
    spike[:, :, 10] = 1.0
    out = aug.gaussian_blur(spike, 15, 1.5, 2.0, 1.0, gen(0))
    assert torch.allclose(out.sum(dim=2), spike.sum(dim=2), atol=1e-5)
    assert (out[:, :, 10] < 0.5).all() and (out[:, :, 9] > 0.05).all()
    kernels = aug.gaussian_kernels(torch.tensor([0.5, 2.0]), 15)
    assert torch.allclose(kernels.sum(dim=1), torch.ones(2)) and kernels[1, 0] > kernels[0, 0]


def test_axis_mask_zeroes_exactly_one_axis() -> None:
    x = batch() + 10.0  # no zero coordinates anywhere
    out = aug.axis_mask(x, 1.0, gen(0))
    zero_axes = (out == 0).flatten(2).all(dim=2)  # (N, C)
    assert torch.equal(zero_axes.sum(dim=1), torch.ones(x.shape[0], dtype=torch.long))
    kept = ~zero_axes
    assert torch.equal(out.transpose(0, 1)[kept.T], x.transpose(0, 1)[kept.T])


def test_bad_input_is_rejected_with_the_expected_layout() -> None:
    with pytest.raises(ValueError, match=r"\(N, C, T, V, M\)"):
        aug.shear(torch.zeros(3, 10, 6), 0.5, gen(0))
    with pytest.raises(ValueError, match="C = 3"):
        aug.rotate(torch.zeros(2, 2, 10, 6, 1), 30.0, 1.0, gen(0))
