"""Spatial-temporal masking (paper section 3.1), written once and used by every caller.

Frame masking removes ``round(frame_ratio * T)`` whole frames of each sample; joint masking then
removes ``round(joint_ratio * V)`` joints in every kept frame, either a new subset per kept frame
(``"random"``) or one subset for the whole sequence (``"fixed"``). ``joint_ratio = 0`` is the
paper's *only-frame* ablation and ``frame_ratio = 0`` its *only-joint* one.

Because every sample keeps the same number of frames ``Tv`` and joints per kept frame ``Vv``, the
visible tokens form a regular ``(Tv, Vv)`` grid per sample, so the whole batch is masked with a few
tensor ops (MAE's argsort-of-noise trick) and no Python loop over samples. Kept frames and kept
joints are returned in increasing order, so the visible grid preserves temporal and joint order.

Motion-aware masking (MAMP, Mao et al. 2023, beyond the paper): with ``frame_scores`` and
``joint_scores`` the removed frames and joints are drawn without replacement with probability proportional to
``exp(score)`` (Gumbel top-k over the same argsort), so moving frames and joints are removed more
often; :func:`motion_scores` turns a batch into such scores. Without scores every frame (joint) is equally
likely and the draw is exactly the uniform one.

Rounding: ``round`` is half-up (``floor(ratio * count + 0.5)``), so ``joint_ratio = 0.5`` removes
13 of 25 joints. ``mask == 1`` means *removed*, as in MAE.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch

MaskStrategy = Literal["random", "fixed"]


class MaskResult(NamedTuple):
    """Which tokens of an ``(N, T, V)`` grid stay visible.

    Attributes:
        kept_frames: ``(N, Tv)`` int64, original frame index of each kept frame, increasing.
        kept_joints: ``(N, Tv, Vv)`` int64, original joint index of each kept joint of each kept
            frame, increasing along the last axis (identical across frames for ``"fixed"``).
        mask: ``(N, T, V)`` float32, 1 = removed, 0 = visible.
    """

    kept_frames: torch.Tensor
    kept_joints: torch.Tensor
    mask: torch.Tensor


def flat_token_index(kept_frames: torch.Tensor, kept_joints: torch.Tensor, num_joints: int) -> torch.Tensor:
    """``(N, Tv * Vv)`` flat grid id ``t * V + v`` of every visible token, frame-major, from
    ``kept_frames (N, Tv)`` and ``kept_joints (N, Tv, Vv)``."""
    return (kept_frames.unsqueeze(2) * num_joints + kept_joints).flatten(1)


def num_removed(ratio: float, count: int) -> int:
    """How many of ``count`` items a ratio removes: ``floor(ratio * count + 0.5)``."""
    return int(math.floor(ratio * count + 0.5))


def kept_frame_count(num_frames: int, frame_ratio: float) -> int:
    """Frames kept when ``round(frame_ratio * T)`` frames are removed."""
    return num_frames - num_removed(frame_ratio, num_frames)


def visible_counts(
    num_frames: int,
    num_joints: int,
    frame_ratio: float,
    joint_ratio: float,
) -> tuple[int, int]:
    """``(Tv, Vv)``: kept frames per sample and kept joints per kept frame."""
    return kept_frame_count(num_frames, frame_ratio), num_joints - num_removed(joint_ratio, num_joints)


def check_visible_frames(num_frames: int, frame_ratio: float, tuple_len: int) -> int:
    """Return ``Tv`` after checking it is a positive multiple of ``tuple_len``."""
    kept = kept_frame_count(num_frames, frame_ratio)
    if kept < tuple_len or kept % tuple_len != 0:
        raise ValueError(
            f"frame_ratio={frame_ratio} keeps {kept} of {num_frames} frames, which is not a "
            f"positive multiple of tuple_len={tuple_len}: visible frames are grouped into tuples "
            f"of {tuple_len}; choose frame_ratio so that num_frames - round(frame_ratio * "
            f"num_frames) is a multiple of {tuple_len} (e.g. 0.4, 0.5 or 0.6 with 60 or 120 "
            "frames and tuple_len 6), or change num_frames / tuple_len"
        )
    return kept


def _check_scores(name: str, scores: torch.Tensor, shape: tuple[int, ...]) -> None:
    if tuple(scores.shape) != shape:
        raise ValueError(
            f"{name} has shape {tuple(scores.shape)}; expected {shape} (batch, frames[, joints])"
        )


def motion_scores(x: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Removal log-weights from a batch's motion, for motion-aware masking.

    The motion of joint ``v`` at frame ``t`` is ``||x[t+1, v] - x[t, v]||`` summed over persons
    (the last frame repeats the one before; a step from or to a zero, i.e. padded or missing,
    joint counts as no motion, so the end of a zero-padded sequence is not "moving"), divided by
    the sample's mean motion so that the temperature does not depend on the data's units, then
    divided by ``temperature`` (MAMP's tau; lower is sharper, large approaches uniform).

    Args:
        x: ``(N, C, T, V, M)`` coordinates (padded persons and frames are zeros).
        temperature: tau > 0.

    Returns:
        ``frame_scores (N, T)`` (the frame's mean joint score) and ``joint_scores (N, T, V)``.
    """
    if not temperature > 0:
        raise ValueError(f"motion temperature={temperature!r}: use a value > 0 (MAMP uses 0.75)")
    if x.shape[2] < 2:  # one frame: no motion, uniform scores
        zeros = torch.zeros(x.shape[0], x.shape[2], x.shape[3], device=x.device)
        return zeros.mean(dim=2), zeros
    steps = (x[:, :, 1:] - x[:, :, :-1]).float().norm(dim=1)  # (N, T-1, V, M)
    present = x.ne(0).any(dim=1)  # (N, T, V, M): a joint of a person in a frame
    steps = (steps * (present[:, 1:] & present[:, :-1])).sum(dim=-1)  # (N, T-1, V)
    motion = torch.cat([steps, steps[:, -1:]], dim=1)  # (N, T, V)
    scale = motion.mean(dim=(1, 2), keepdim=True).clamp_min(1e-8)
    joint_scores = motion / scale / temperature
    return joint_scores.mean(dim=2), joint_scores


def _removal_noise(
    scores: torch.Tensor | None, shape: tuple[int, ...], generator: torch.Generator | None, device
) -> torch.Tensor:
    """Noise whose lowest values are kept: uniform without scores; ``scores + Gumbel`` with them,
    so that removal (the highest values) is drawn with probability ``softmax(scores)``."""
    noise = torch.rand(*shape, generator=generator, device=device)
    if scores is None:
        return noise
    gumbel = -torch.log(-torch.log(noise.clamp(1e-12, 1.0 - 1e-7)))
    return scores.to(noise.device, noise.dtype) + gumbel


def _lowest_k_sorted(noise: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices of the ``keep`` smallest noise values along the last axis, sorted ascending."""
    kept, _ = noise.argsort(dim=-1)[..., :keep].sort(dim=-1)
    return kept


def spatial_temporal_mask(
    batch_size: int,
    num_frames: int,
    num_joints: int,
    *,
    frame_ratio: float,
    joint_ratio: float,
    strategy: MaskStrategy = "random",
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    frame_scores: torch.Tensor | None = None,
    joint_scores: torch.Tensor | None = None,
) -> MaskResult:
    """Sample a spatial-temporal mask for a batch of ``(T, V)`` grids.

    The ratios are those of a validated :class:`~skeletonmae.run_config.MaskConfig` that fits the
    grid (``MaskConfig.check_against``: at least one visible frame and joint, whole tuples of
    visible frames); they are not checked again here, once per batch.

    Args:
        batch_size: ``N``.
        num_frames: ``T``.
        num_joints: ``V``.
        frame_ratio: alpha in [0, 1), fraction of frames removed.
        joint_ratio: beta in [0, 1), fraction of joints removed in every kept frame.
        strategy: ``"random"`` (new joints per kept frame) or ``"fixed"`` (one joint set).
        generator: seeds the draw (same generator state, same mask); global RNG when None.
        device: where the result lives (the generator must live there too).
        frame_scores: ``(N, T)`` removal log-weights of frames; None: uniform.
        joint_scores: ``(N, T, V)`` removal log-weights of joints at each frame (``"fixed"``
            uses each joint's mean over frames); None: uniform.

    Returns:
        :class:`MaskResult` with ``kept_frames (N, Tv)``, ``kept_joints (N, Tv, Vv)`` and
        ``mask (N, T, V)``.
    """
    kept_t, kept_v = visible_counts(num_frames, num_joints, frame_ratio, joint_ratio)
    n, t, v = batch_size, num_frames, num_joints

    if frame_scores is not None:
        _check_scores("frame_scores", frame_scores, (n, t))
    frame_noise = _removal_noise(frame_scores, (n, t), generator, device)
    kept_frames = _lowest_k_sorted(frame_noise, kept_t)  # (N, Tv), increasing
    scores = None
    if joint_scores is not None:
        _check_scores("joint_scores", joint_scores, (n, t, v))
        scores = joint_scores.to(kept_frames.device)
        if strategy == "random":
            scores = scores.gather(1, kept_frames.unsqueeze(2).expand(n, kept_t, v))  # (N, Tv, V)
        else:
            scores = scores.mean(dim=1, keepdim=True)  # (N, 1, V)
    joint_shape = (n, kept_t, v) if strategy == "random" else (n, 1, v)
    joint_noise = _removal_noise(scores, joint_shape, generator, device)
    kept_joints = _lowest_k_sorted(joint_noise, kept_v)  # (N, Tv or 1, Vv)
    kept_joints = kept_joints.expand(n, kept_t, kept_v).contiguous()

    mask = torch.ones(n, t * v, device=kept_frames.device)
    mask.scatter_(1, flat_token_index(kept_frames, kept_joints, v), 0.0)  # (N, T*V), 1 = removed
    return MaskResult(kept_frames, kept_joints, mask.view(n, t, v))
