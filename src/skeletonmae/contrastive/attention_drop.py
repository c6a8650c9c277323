"""AimCLR's energy-based attention-guided drop (EADM) on an encoder's last feature map.

A cell's attention is a sigmoid of its SimAM-style energy (far from its channel's mean over frames
and joints: high). EADM zeroes what the encoder attends to most, so the extreme view must be
recognised from the rest: first every joint whose mean attention reaches the threshold, then every
(channel, frame, joint) cell that does; after each drop the kept features are rescaled by
``cells / kept cells`` per sample. The masks take no gradient; the kept features do.
"""

from __future__ import annotations

import torch

from skeletonmae.run_config import AttentionDropConfig


def energy_attention(features: torch.Tensor, energy_lambda: float) -> torch.Tensor:
    """``(B, C, T, V)`` features -> ``(B, C, T, V)`` attention in (0.62, 1): sigmoid of the inverse energy."""
    if features.dim() != 4:
        raise ValueError(
            f"energy_attention: expected features (B, C, T, V), got shape {tuple(features.shape)}"
        )
    cells = max(features.shape[2] * features.shape[3] - 1, 1)
    squared = (features - features.mean(dim=(2, 3), keepdim=True)).pow(2)  # (B, C, T, V)
    variance = squared.sum(dim=(2, 3), keepdim=True) / cells
    return torch.sigmoid(squared / (4 * (variance + energy_lambda)) + 0.5)


def _keep_and_rescale(features: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Multiply by the 0/1 ``keep`` mask (broadcastable to features) scaled by cells / kept cells
    per sample."""
    keep = keep.to(features.dtype)
    cells = keep[0].numel()
    kept = keep.flatten(1).sum(dim=1).clamp(min=1.0)  # (B,)
    scale = (cells / kept).view(-1, *([1] * (keep.dim() - 1)))
    return features * keep * scale


def attention_drop(features: torch.Tensor, config: AttentionDropConfig) -> torch.Tensor:
    """EADM on ``(B, C, T, V)`` features (T frames, V joints); returns the same shape."""
    with torch.no_grad():
        attention = energy_attention(features.detach(), config.energy_lambda)  # (B, C, T, V)
        keep_joints = attention.mean(dim=(1, 2)) < config.threshold  # (B, V)
        keep_cells = attention < config.threshold  # (B, C, T, V)
    dropped = _keep_and_rescale(features, keep_joints[:, None, None, :])
    return _keep_and_rescale(dropped, keep_cells)


def attention_drop_tuples(
    features: torch.Tensor, tuple_length: int, config: AttentionDropConfig
) -> torch.Tensor:
    """EADM on an STTFormer feature map ``(B, C, T/L, L*V)`` whose slot index is ``frame_in_tuple *
    V + joint``.

    The map is viewed as ``(B, C, T, V)`` (frames x joints), so "joint" means the same body joint in
    every frame, as in AimCLR; the result has the input's shape.
    """
    if features.dim() != 4 or features.shape[3] % tuple_length != 0:
        raise ValueError(
            f"attention_drop_tuples: expected (B, C, T/L, L*V) with L = {tuple_length} dividing "
            f"the slot axis, got shape {tuple(features.shape)}"
        )
    batch, channels, tuples, slots = features.shape
    joints = slots // tuple_length
    frames_by_joints = features.reshape(batch, channels, tuples * tuple_length, joints)  # (B, C, T, V)
    return attention_drop(frames_by_joints, config).reshape(batch, channels, tuples, slots)
