"""Skeleton augmentations of the contrastive baselines, as pure seedable functions on batches.

Every function maps ``x (N, C, T, V, M)`` to a new tensor of that shape, each sample with its own
random parameters drawn only from the given ``torch.Generator`` (on its device, then moved to
``x``'s: a CPU generator drives GPU batches too). ``normal_augment`` is SkeletonCLR's Shear + Crop
(both methods); ``extreme_augment`` adds AimCLR's extreme set in AimCLR's order. Absent (all-zero)
persons stay exactly zero under every transform.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from skeletonmae.run_config import AugmentationConfig

LeftRightPairs = Sequence[tuple[int, int]]


def _check_batch(x: torch.Tensor, name: str, coordinates: int | None = None) -> None:
    if x.dim() != 5:
        raise ValueError(f"{name}: expected a batch (N, C, T, V, M), got shape {tuple(x.shape)}")
    if coordinates is not None and x.shape[1] != coordinates:
        raise ValueError(f"{name}: expected C = {coordinates} coordinates, got shape {tuple(x.shape)}")


def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator, device=generator.device)


def _chosen(count: int, prob: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """A bool ``(count,)``: which samples get a transform applied with probability ``prob``."""
    return (torch.rand(count, generator=generator, device=generator.device) < prob).to(device)


def _per_sample(mask: torch.Tensor) -> torch.Tensor:
    """Broadcast a ``(N,)`` mask over ``(N, C, T, V, M)``."""
    return mask.view(-1, 1, 1, 1, 1)


def present_persons(x: torch.Tensor) -> torch.Tensor:
    """``(N, 1, 1, 1, M)`` float mask: 1 where the person slot holds any non-zero coordinate."""
    return (x.abs().amax(dim=(1, 2, 3), keepdim=True) > 0).to(x.dtype)


def shear(x: torch.Tensor, amplitude: float, generator: torch.Generator) -> torch.Tensor:
    """Shear every point by ``S`` with unit diagonal and off-diagonals from U(-a, a), one ``S`` per sample."""
    _check_batch(x, "shear", coordinates=3)
    n = x.shape[0]
    matrices = _uniform((n, 3, 3), -amplitude, amplitude, generator).to(x.device, x.dtype)
    eye = torch.eye(3, dtype=x.dtype, device=x.device)
    matrices = matrices * (1 - eye) + eye  # unit diagonal
    return torch.einsum("nij,njtvm->nitvm", matrices, x)


def temporal_pad_crop(x: torch.Tensor, padding_ratio: int, generator: torch.Generator) -> torch.Tensor:
    """SkeletonCLR's Crop: reflect-pad ``T // padding_ratio`` frames at each end, crop ``T`` at a
    random start."""
    _check_batch(x, "temporal_pad_crop")
    n, _, frames, _, _ = x.shape
    pad = frames // padding_ratio if padding_ratio > 0 else 0
    if pad == 0:
        return x.clone()
    padded = torch.cat([x[:, :, :pad].flip(2), x, x[:, :, -pad:].flip(2)], dim=2)  # (N, C, T+2p, V, M)
    starts = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=generator.device).to(x.device)
    index = starts[:, None] + torch.arange(frames, device=x.device)  # (N, T)
    return torch.gather(padded, 2, index[:, None, :, None, None].expand_as(x))


def temporal_crop_resize(x: torch.Tensor, min_ratio: float, generator: torch.Generator) -> torch.Tensor:
    """Keep a random window of ``U(min_ratio, 1) * T`` frames and resize it back to ``T`` (linear)."""
    _check_batch(x, "temporal_crop_resize")
    n, _, frames, _, _ = x.shape
    lengths = (_uniform((n,), min_ratio, 1.0, generator) * frames).round().clamp(1, frames)
    room = frames - lengths  # (N,) frames left outside each window
    starts = (_uniform((n,), 0.0, 1.0, generator) * (room + 1)).floor().clamp(max=room)
    steps = torch.linspace(0.0, 1.0, frames, device=generator.device)
    positions = (starts[:, None] + steps[None, :] * (lengths[:, None] - 1)).to(x.device, x.dtype)  # (N, T)
    low = positions.floor().long().clamp(0, frames - 1)
    high = (low + 1).clamp(max=frames - 1)
    weight = (positions - low.to(x.dtype))[:, None, :, None, None]

    def frames_at(index: torch.Tensor) -> torch.Tensor:  # (N, T) frame indices -> (N, C, T, V, M)
        return torch.gather(x, 2, index[:, None, :, None, None].expand_as(x))

    return frames_at(low) * (1 - weight) + frames_at(high) * weight


def temporal_crop(x: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    """The configured temporal crop (``pad`` = the methods' Crop, ``resize`` = crop-resize)."""
    if config.temporal_crop == "resize":
        return temporal_crop_resize(x, config.crop_min_ratio, generator)
    return temporal_pad_crop(x, config.temporal_padding_ratio, generator)


def left_right_permutation(num_joints: int, left_right: LeftRightPairs) -> torch.Tensor:
    """The joint order that swaps each ``(left, right)`` pair; raises on out-of-range or repeated joints."""
    order = list(range(num_joints))
    seen: set[int] = set()
    for left, right in left_right:
        if not (0 <= left < num_joints and 0 <= right < num_joints) or {left, right} & seen or left == right:
            raise ValueError(
                f"left_right pair ({left}, {right}): expected distinct joints in [0, {num_joints}) "
                "used in one pair only; check the skeleton layout's left_right pairs"
            )
        seen |= {left, right}
        order[left], order[right] = right, left
    return torch.tensor(order, dtype=torch.long)


def spatial_flip(
    x: torch.Tensor, left_right: LeftRightPairs, prob: float, generator: torch.Generator
) -> torch.Tensor:
    """With probability ``prob`` per sample, swap left and right joints (the layout's
    ``left_right`` pairs)."""
    _check_batch(x, "spatial_flip")
    order = left_right_permutation(x.shape[3], left_right).to(x.device)
    flip = _chosen(x.shape[0], prob, generator, x.device)
    return torch.where(_per_sample(flip), x[:, :, :, order], x)


def rotation_matrices(angles: torch.Tensor) -> torch.Tensor:
    """``(N, 3)`` angles in radians about x, y, z -> ``(N, 3, 3)`` rotations ``Rz @ Ry @ Rx``."""
    cos, sin = angles.cos(), angles.sin()
    one, zero = torch.ones_like(cos[:, 0]), torch.zeros_like(cos[:, 0])

    def build(rows: list[list[torch.Tensor]]) -> torch.Tensor:
        return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)

    rx = build([[one, zero, zero], [zero, cos[:, 0], -sin[:, 0]], [zero, sin[:, 0], cos[:, 0]]])
    ry = build([[cos[:, 1], zero, sin[:, 1]], [zero, one, zero], [-sin[:, 1], zero, cos[:, 1]]])
    rz = build([[cos[:, 2], -sin[:, 2], zero], [sin[:, 2], cos[:, 2], zero], [zero, zero, one]])
    return rz @ ry @ rx


def rotate(
    x: torch.Tensor, main_max_degrees: float, minor_max_degrees: float, generator: torch.Generator
) -> torch.Tensor:
    """AimCLR's Rotate: one random main axis by U(0, main) degrees, the other two by U(0, minor) degrees."""
    _check_batch(x, "rotate", coordinates=3)
    n = x.shape[0]
    main_axis = torch.randint(0, 3, (n,), generator=generator, device=generator.device)
    main = _uniform((n, 3), 0.0, main_max_degrees, generator)
    minor = _uniform((n, 3), 0.0, minor_max_degrees, generator)
    is_main = torch.nn.functional.one_hot(main_axis, 3).bool()
    angles = torch.where(is_main, main, minor) * (math.pi / 180.0)
    matrices = rotation_matrices(angles.double()).to(x.device, x.dtype)
    return torch.einsum("nij,njtvm->nitvm", matrices, x)


def temporal_flip(x: torch.Tensor, prob: float, generator: torch.Generator) -> torch.Tensor:
    """With probability ``prob`` per sample, reverse the frame order."""
    _check_batch(x, "temporal_flip")
    flip = _chosen(x.shape[0], prob, generator, x.device)
    return torch.where(_per_sample(flip), x.flip(2), x)


def gaussian_noise(x: torch.Tensor, std: float, prob: float, generator: torch.Generator) -> torch.Tensor:
    """With probability ``prob`` per sample, add N(0, std^2) noise to present persons' coordinates."""
    _check_batch(x, "gaussian_noise")
    chosen = _chosen(x.shape[0], prob, generator, x.device)
    noise = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device, x.dtype) * std
    return x + noise * _per_sample(chosen).to(x.dtype) * present_persons(x)


def gaussian_kernels(sigmas: torch.Tensor, size: int) -> torch.Tensor:
    """``(N,)`` standard deviations (frames) -> ``(N, size)`` normalised Gaussian kernels."""
    offsets = torch.arange(size, dtype=sigmas.dtype, device=sigmas.device) - size // 2
    weights = torch.exp(-(offsets[None, :] ** 2) / (2 * sigmas[:, None] ** 2))
    return weights / weights.sum(dim=1, keepdim=True)


def gaussian_blur(
    x: torch.Tensor, kernel: int, sigma_min: float, sigma_max: float, prob: float, generator: torch.Generator
) -> torch.Tensor:
    """With probability ``prob`` per sample, blur each joint's trajectory over time (sigma ~ U(min, max));
    replicate-padded edges and normalised kernels keep a constant trajectory constant."""
    _check_batch(x, "gaussian_blur")
    n, frames = x.shape[0], x.shape[2]
    chosen = _chosen(n, prob, generator, x.device)
    sigmas = _uniform((n,), sigma_min, sigma_max, generator)
    weights = gaussian_kernels(sigmas, kernel).to(x.device, x.dtype)  # (N, K)
    half = kernel // 2
    padded = torch.cat(
        [x[:, :, :1].expand(-1, -1, half, -1, -1), x, x[:, :, -1:].expand(-1, -1, half, -1, -1)], dim=2
    )  # (N, C, T+K-1, V, M)
    blurred = torch.zeros_like(x)
    for shift in range(kernel):
        blurred += weights[:, shift].view(n, 1, 1, 1, 1) * padded[:, :, shift : shift + frames]
    return torch.where(_per_sample(chosen), blurred, x)


def axis_mask(x: torch.Tensor, prob: float, generator: torch.Generator) -> torch.Tensor:
    """With probability ``prob`` per sample, zero one random coordinate axis (x, y or z)."""
    _check_batch(x, "axis_mask")
    n, channels = x.shape[:2]
    chosen = _chosen(n, prob, generator, x.device)
    axis = torch.randint(0, channels, (n,), generator=generator, device=generator.device).to(x.device)
    zeroed = torch.nn.functional.one_hot(axis, channels).bool() & chosen[:, None]  # (N, C)
    return x.masked_fill(zeroed.view(n, channels, 1, 1, 1), 0.0)


def normal_augment(x: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    """SkeletonCLR's augmentation: temporal crop, then Shear. ``(N, C, T, V, M)`` -> same shape."""
    x = temporal_crop(x, config, generator)
    if config.shear_amplitude > 0:
        x = shear(x, config.shear_amplitude, generator)
    return x


def extreme_augment(
    x: torch.Tensor, config: AugmentationConfig, left_right: LeftRightPairs, generator: torch.Generator
) -> torch.Tensor:
    """AimCLR's extreme augmentation, in its order: crop, shear, spatial flip, rotate, temporal flip,
    Gaussian noise, Gaussian blur, axis mask. ``(N, C, T, V, M)`` -> same shape."""
    x = normal_augment(x, config, generator)
    x = spatial_flip(x, left_right, config.spatial_flip_prob, generator)
    x = rotate(x, config.rotate_main_max_degrees, config.rotate_minor_max_degrees, generator)
    x = temporal_flip(x, config.temporal_flip_prob, generator)
    x = gaussian_noise(x, config.noise_std, config.noise_prob, generator)
    x = gaussian_blur(
        x, config.blur_kernel, config.blur_sigma_min, config.blur_sigma_max, config.blur_prob, generator
    )
    return axis_mask(x, config.axis_mask_prob, generator)
