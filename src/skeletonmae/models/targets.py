"""What the MAE reconstructs, and the two predictors that learn nothing, on the same masks.

Targets (``MaskConfig.target``) of coordinate rows ``x (P, C, T, V)``: ``coordinates`` (the
paper) or ``motion``, ``x[t+1] - x[t]`` (MAMP's). ``MaskConfig.normalize_target`` standardises the
target per *patch*, one joint over one tuple (``L * C`` values), as MAE normalises pixels per
patch: only the shape of the motion within the tuple is left.

The trivial predictors fill every removed token from the visible ones of its row and joint: the
static pose (the joint's mean over its visible frames) and linear interpolation in time. Their
coordinates go through the same target transform, with the *true* rows' statistics, so their
errors compare with the model's on exactly the masks it saw.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

TARGETS = ("coordinates", "motion")
NORM_EPS = 1e-6


class TargetStats(NamedTuple):
    """How a target was made: per-patch ``mean`` and ``std`` ``(P, 1, K, 1, V)``, None if not normalised."""

    mean: torch.Tensor | None
    std: torch.Tensor | None


def frame_differences(x: torch.Tensor) -> torch.Tensor:
    """``x[:, :, t+1] - x[:, :, t]`` over the frame axis of ``(P, C, T, ...)``, zero at the last frame."""
    motion = torch.zeros_like(x)
    motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return motion


def _raw_target(x: torch.Tensor, target: str) -> torch.Tensor:
    """``(P, C, T, V)`` coordinates -> ``(P, C, T, V)`` un-normalised target."""
    if target == "coordinates":
        return x
    if target == "motion":
        return frame_differences(x)
    raise ValueError(f"unknown reconstruction target {target!r}; choose one of {TARGETS}")


def _patches(y: torch.Tensor, tuple_len: int) -> torch.Tensor:
    """``(P, C, T, V) -> (P, C, K, L, V)`` view with ``K = T / L`` tuples of ``L`` frames."""
    p, c, t, v = y.shape
    return y.view(p, c, t // tuple_len, tuple_len, v)


def reconstruction_target(
    x: torch.Tensor, target: str, normalize: bool, tuple_len: int
) -> tuple[torch.Tensor, TargetStats]:
    """The target of rows ``x (P, C, T, V)`` and how it was made. Normalisation statistics are
    over the ``C * L`` values of each (joint, tuple) patch (None when ``normalize`` is False)."""
    y = _raw_target(x, target)
    if not normalize:
        return y, TargetStats(None, None)
    patches = _patches(y, tuple_len)  # (P, C, K, L, V)
    mean = patches.mean(dim=(1, 3), keepdim=True)  # (P, 1, K, 1, V)
    std = (patches.var(dim=(1, 3), keepdim=True, unbiased=False) + NORM_EPS).sqrt()
    return ((patches - mean) / std).view_as(y), TargetStats(mean, std)


def apply_target(x: torch.Tensor, target: str, stats: TargetStats, tuple_len: int) -> torch.Tensor:
    """``x (P, C, T, V)`` coordinates (e.g. a baseline's) as a target made the way ``stats``
    (of the true rows) says."""
    y = _raw_target(x, target)
    if stats.mean is None:
        return y
    return ((_patches(y, tuple_len) - stats.mean) / stats.std).view_as(y)


def target_to_coordinates(
    predicted: torch.Tensor,
    x: torch.Tensor,
    stats: TargetStats,
    target: str,
    visible: torch.Tensor,
    tuple_len: int,
) -> torch.Tensor:
    """The coordinates ``(P, C, T, V)`` that a prediction in target space ``predicted`` stands for,
    given the true rows ``x`` and the ``stats`` of their target (the inverse of
    :func:`reconstruction_target`; with normalised targets it uses the true patches' mean and std,
    as MAE's pictures do). ``motion`` is integrated from each joint's visible positions: a removed
    token is the previous frame's position plus the predicted step (the next frame's minus its
    step before a joint's first visible frame; a joint never visible is anchored at its true last
    frame); visible tokens keep their true positions."""
    y = predicted
    if stats.mean is not None:
        y = (_patches(y, tuple_len) * stats.std + stats.mean).view_as(y)
    if target != "motion":
        return y
    frames = x.shape[2]
    anchored = visible.int().cummax(dim=1).values.bool()  # (P, T, V): at or after the first visible frame
    positions = x.clone()
    for t in range(1, frames):  # removed after a visible frame: the previous position plus its step
        step = positions[:, :, t - 1] + y[:, :, t - 1]
        removed = (anchored[:, t] & ~visible[:, t]).unsqueeze(1)
        positions[:, :, t] = torch.where(removed, step, positions[:, :, t])
    for t in range(frames - 2, -1, -1):  # before the first visible frame: the next position minus the step
        back = positions[:, :, t + 1] - y[:, :, t]
        positions[:, :, t] = torch.where((~anchored[:, t]).unsqueeze(1), back, positions[:, :, t])
    return positions


def static_pose_fill(x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """``x (P, C, T, V)`` with every removed token replaced by its joint's mean over the visible
    frames; ``visible (P, T, V)`` bool. A joint never visible in a row gets zero."""
    weight = visible.unsqueeze(1).to(x.dtype)  # (P, 1, T, V)
    count = weight.sum(dim=2, keepdim=True)  # (P, 1, 1, V)
    mean = (x * weight).sum(dim=2, keepdim=True) / count.clamp(min=1.0)  # (P, C, 1, V)
    return torch.where(visible.unsqueeze(1), x, mean.expand_as(x))


def interpolation_fill(x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """``x (P, C, T, V)`` with every removed token linearly interpolated in time between its
    joint's nearest visible frames before and after (the one that exists at the ends, the static
    pose where neither exists); ``visible (P, T, V)`` bool."""
    p, c, t, v = x.shape
    frames = torch.arange(t, device=x.device).view(1, t, 1).expand(p, t, v)
    before = torch.where(visible, frames, torch.full_like(frames, -1)).cummax(dim=1).values
    after_flip = torch.where(visible, frames, torch.full_like(frames, t)).flip(1)
    after = after_flip.cummin(dim=1).values.flip(1)  # (P, T, V), t when none after
    has_before, has_after = before >= 0, after < t
    low = torch.where(has_before, before, after).clamp(0, t - 1)
    high = torch.where(has_after, after, before).clamp(0, t - 1)
    span = (high - low).clamp(min=1).to(x.dtype)
    weight = torch.where(high > low, (frames - low).to(x.dtype) / span, torch.zeros_like(span))
    x_low = x.gather(2, low.unsqueeze(1).expand(p, c, t, v))
    x_high = x.gather(2, high.unsqueeze(1).expand(p, c, t, v))
    filled = x_low + weight.unsqueeze(1) * (x_high - x_low)
    neither = ~(has_before | has_after)  # joint never visible in the row
    filled = torch.where(neither.unsqueeze(1), static_pose_fill(x, visible), filled)
    return torch.where(visible.unsqueeze(1), x, filled)


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """Mean squared error over coordinates and the removed tokens: ``predicted``, ``target``
    ``(P, C, T, V)``, ``removed (P, T, V)`` float (1 = removed). NaN when nothing is removed."""
    squared = (predicted - target).pow(2).mean(dim=1)  # (P, T, V)
    return (squared * removed).sum() / removed.sum()


def baseline_errors(
    x: torch.Tensor, removed: torch.Tensor, target: str, stats: TargetStats, tuple_len: int
) -> dict[str, torch.Tensor]:
    """Masked-token MSE of the static-pose and interpolation predictors in target space:
    ``x (P, C, T, V)`` true rows, ``removed (P, T, V)`` float, ``stats`` of the true target."""
    true_target = apply_target(x, target, stats, tuple_len)
    visible = removed == 0
    errors = {}
    for name, fill in (("static", static_pose_fill), ("interp", interpolation_fill)):
        guess = apply_target(fill(x, visible), target, stats, tuple_len)
        errors[name] = masked_mse(guess, true_target, removed)
    return errors
