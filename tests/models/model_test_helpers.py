"""Small configs and inputs shared by the model tests."""

from __future__ import annotations

import torch

from skeletonmae.models.attend_mix import apply_attention
from skeletonmae.run_config import ModelConfig, StageSpec, preset

TINY_STAGES = (StageSpec(channels=8, qk_dim=2, num_blocks=1), StageSpec(channels=12, qk_dim=3, num_blocks=2))


def tiny_config(**overrides) -> ModelConfig:
    """A 12-frame, 5-joint, 2-person grid with tuples of 3 frames and two narrow stages."""
    fields = dict(
        num_frames=12,
        tuple_len=3,
        num_joints=5,
        num_persons=2,
        num_classes=4,
        stages=TINY_STAGES,
        decoder_width=8,
        decoder_depth=1,
    )
    fields.update(overrides)
    return preset("ntu60", **fields)


def skeleton_batch(
    config: ModelConfig, n: int = 3, seed: int = 0, second_person: tuple[bool, ...] | None = None
) -> torch.Tensor:
    """Random ``(N, C, T, V, M)`` batch; persons after the first are zeroed where
    ``second_person[i]`` is False."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(
        n, config.in_channels, config.num_frames, config.num_joints, config.num_persons, generator=generator
    )
    if second_person is not None:
        for i, present in enumerate(second_person):
            if not present:
                x[i, ..., 1:] = 0
    return x


def randomize_parameters(module: torch.nn.Module, seed: int = 0) -> None:
    """Give every parameter and BatchNorm statistic non-trivial values (for equivalence tests)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=generator)
                if name.endswith("running_var"):
                    tensor.copy_(0.5 + noise)
                else:
                    tensor.add_(0.1 * (noise - 0.5))


def attend(block, x: torch.Tensor, slot_ids=None) -> torch.Tensor:
    """A block's attended ``(B, H*C, K, S')`` tensor (its maps applied to ``x``)."""
    return apply_attention(x, block.attention_map(x, slot_ids))
