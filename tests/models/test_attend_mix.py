"""The memory-lean STTA block equals the official formulation (outputs and gradients)."""

from __future__ import annotations

import pytest
import torch
from model_test_helpers import randomize_parameters

from skeletonmae.models.attend_mix import apply_attention, attend_and_convolve
from skeletonmae.models.reference import official_block_forward
from skeletonmae.models.sttformer import STTABlock


def _block(in_channels: int = 6, out_channels: int = 10, seed: int = 0, **options) -> STTABlock:
    torch.manual_seed(seed)
    block = STTABlock(in_channels, out_channels, 4, num_slots=12, num_heads=3, **options)
    randomize_parameters(block, seed=seed)
    return block.train()


def _output_and_grads(run, block: STTABlock, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Output, input gradient and every parameter gradient of ``run(block, x)`` under a fixed
    random cotangent; BatchNorm running statistics are restored so both runs start alike."""
    state = {k: v.clone() for k, v in block.state_dict().items()}
    block.zero_grad()
    x = x.clone().requires_grad_()
    out = run(block, x)
    cotangent = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    (out * cotangent).sum().backward()
    block.load_state_dict(state)
    return {"output": out.detach(), "input": x.grad} | {n: p.grad for n, p in block.named_parameters()}


def _max_relative_error(ours: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> float:
    """Largest difference over the reference tensor's largest magnitude. The biases of convs
    followed by a training-mode BatchNorm (``<conv_bn>.0.bias``) have a zero gradient in exact
    arithmetic; theirs are compared with the largest gradient of all."""
    assert ours.keys() == reference.keys() and all(t is not None for t in ours.values())
    largest = max(t.abs().max() for t in reference.values())
    errors = []
    for name, expected in reference.items():
        scale = largest if name.endswith(".0.bias") else expected.abs().max()
        errors.append(((ours[name] - expected).abs().max() / scale).item())
    return max(errors)


@pytest.mark.parametrize("widths", [(6, 10), (8, 8)])
def test_block_matches_the_official_formulation_in_outputs_and_gradients(widths):
    block = _block(*widths)
    x = torch.randn(4, widths[0], 5, 12)
    ours = _output_and_grads(lambda m, v: m(v), block, x)
    reference = _output_and_grads(official_block_forward, block, x)
    assert _max_relative_error(ours, reference) < 1e-5


def _maps(kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (B, C, K, S)`` and a shared ``(B, H, S, S)`` map or per-tuple ``(B, H, K, S, S)`` maps
    (those of visible tokens)."""
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(2, 5, 4, 7, generator=generator)
    shape = (2, 3, 7, 7) if kind == "shared" else (2, 3, 4, 7, 7)
    return x, torch.randn(shape, generator=generator)


@pytest.mark.parametrize("kind", ["shared", "per_tuple"])
def test_attend_and_convolve_equals_the_plain_composition(kind):
    x, attention = _maps(kind)
    conv = torch.nn.Conv2d(15, 6, (1, 5), padding=(0, 2))
    results = []
    for fused in (True, False):
        inputs = [x.clone().requires_grad_(), attention.clone().requires_grad_()]
        conv.zero_grad()
        if fused:
            out = attend_and_convolve(*inputs, conv)
        else:  # the differentiable reference: einsum, every intermediate stored
            equation = "bcku,bhuv->bhckv" if kind == "shared" else "bcku,bhkuv->bhckv"
            out = conv(torch.einsum(equation, *inputs).reshape(2, 15, 4, 7))
        out.pow(2).sum().backward()
        names = ("output", "x", "attention", "weight", "bias_")  # no BatchNorm: the bias counts
        values = (out.detach(), inputs[0].grad, inputs[1].grad, conv.weight.grad, conv.bias.grad)
        results.append(dict(zip(names, values)))
    assert _max_relative_error(*results) < 1e-5
    with torch.no_grad():  # the gradient-free path gives the same output
        assert torch.allclose(attend_and_convolve(x, attention, conv), results[1]["output"], atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"visible_attention_rescale": True}])
def test_visible_token_blocks_match_the_plain_composition(options, monkeypatch):
    block = _block(**options)
    x = torch.randn(3, 6, 4, 5)
    ids = torch.stack([torch.randperm(12)[:5].sort().values for _ in range(12)]).view(3, 4, 5)
    ours = _output_and_grads(lambda m, v: m(v, ids), block, x)

    def plain(x, attention, conv):  # what attend_and_convolve replaces
        return conv(apply_attention(x, attention))

    monkeypatch.setattr("skeletonmae.models.sttformer.attend_and_convolve", plain)
    reference = _output_and_grads(lambda m, v: m(v, ids), block, x)
    assert _max_relative_error(ours, reference) < 1e-5


def test_bf16_autocast_block_stays_as_close_to_fp32_as_the_official_formulation():
    block = _block(8, 8)
    x = torch.randn(4, 8, 5, 12)
    exact = _output_and_grads(official_block_forward, block, x)
    errors = []
    for run in (lambda m, v: m(v), official_block_forward):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = {n: t.float() for n, t in _output_and_grads(run, block, x).items()}
        errors.append(_max_relative_error(low, exact))
    # bfloat16 keeps 8 mantissa bits; gradients through three convs and BatchNorms drift by
    # up to about 30 % of a tensor's largest entry in either formulation
    assert errors[0] < 0.35 and errors[0] <= 1.5 * errors[1]


def _saved_bytes(run, block: STTABlock, x: torch.Tensor) -> int:
    """Bytes autograd stores for the backward pass of ``run(block, x)``, parameters excluded."""
    storages: dict[int, int] = {}
    own = {p.untyped_storage().data_ptr() for p in block.parameters()}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run(block, x.requires_grad_())
    return sum(storages.values())


def test_block_stores_far_less_for_backward_than_the_official_formulation():
    block = _block(16, 16)
    x = torch.randn(4, 16, 5, 12)
    ours = _saved_bytes(lambda m, v: m(v), block, x)
    reference = _saved_bytes(official_block_forward, block, x)
    assert ours < 0.65 * reference


def test_channels_last_weights_and_float64_under_autocast_follow_the_plain_composition():
    x, attention = _maps("shared")
    conv = torch.nn.Conv2d(15, 6, (1, 5), padding=(0, 2)).to(memory_format=torch.channels_last)
    inputs = [x.clone().requires_grad_(), attention.clone().requires_grad_()]
    attend_and_convolve(*inputs, conv).sum().backward()  # a channels_last gradient comes back
    expected = torch.autograd.grad(conv(apply_attention(x, attention)).sum(), conv.weight)[0]
    assert torch.allclose(conv.weight.grad, expected, atol=1e-5)
    wide = torch.nn.Conv2d(15, 6, (1, 5), padding=(0, 2)).double()
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast leaves float64 alone
        out = attend_and_convolve(x.double().requires_grad_(), attention.double(), wide)
    assert out.dtype == torch.float64


def test_under_autocast_only_low_precision_copies_are_stored():
    x, attention = _maps("per_tuple")
    conv = torch.nn.Conv2d(15, 6, (1, 5), padding=(0, 2))
    dtypes = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        dtypes.append(tensor.dtype)
        return tensor

    inputs = [x.requires_grad_(), attention.requires_grad_()]
    with (
        torch.autocast("cpu", dtype=torch.bfloat16),
        torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
    ):
        out = attend_and_convolve(*inputs, conv)
    assert dtypes == [torch.bfloat16] * 3  # x, the maps and the weight, as autocast casts them
    out.float().sum().backward()
    assert inputs[0].grad.dtype == inputs[1].grad.dtype == conv.weight.grad.dtype == torch.float32
