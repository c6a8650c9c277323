"""Tuple attention applied and mixed by the slot convolution, without storing the attended tensor.

The attended ``(B, H * C_in, K, S)`` tensor is a block's largest activation (``H`` times its
input), yet rebuilding it costs about 6 % of the ``(1, slot_kernel)`` convolution that follows, so
:func:`attend_and_convolve` keeps only the input and the maps for the backward pass. Outputs and
gradients are the plain composition's (tested to 1e-5); autocast (bf16 / fp16) casts as it would
for ``bmm`` and ``conv2d``. Maps are ``(B, H, S, S)``, shared by every tuple, or ``(B, H, K, S, S)``
per tuple; ``out[:, h, c, k, v] = sum_u x[:, c, k, u] * A[.., u, v]``.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["apply_attention", "attend_and_convolve"]


def apply_attention(x: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """``x (B, C, K, S)`` and a shared ``(B, H, S, S)`` or per-tuple ``(B, H, K, S, S)`` map
    -> ``(B, H*C, K, S)``, head-major channels (``h * C + c``)."""
    b, c, k, s = x.shape
    h = attention.shape[1]
    if torch.is_grad_enabled() and (x.requires_grad or attention.requires_grad):  # out= has no autograd
        if attention.dim() == 4:
            return (x.reshape(b, 1, c * k, s) @ attention).view(b, h * c, k, s)
        return (x.transpose(1, 2).unsqueeze(1) @ attention).transpose(2, 3).reshape(b, h * c, k, s)
    if attention.dim() == 4:
        rows = x.reshape(b, c * k, s)
        out = x.new_empty(b, h, c * k, s)
        for head in range(h):  # per-head bmm straight into the output: no broadcast copy of x
            torch.bmm(rows, attention[:, head], out=out[:, head])
        return out.view(b, h * c, k, s)
    rows = x.transpose(1, 2).reshape(b * k, c, s)  # (B*K, C, S)
    out = x.new_empty(b, h, c, k, s)
    for head in range(h):
        mixed = torch.bmm(rows, attention[:, head].reshape(b * k, s, s))  # (B*K, C, S)
        out[:, head].copy_(mixed.view(b, k, c, s).transpose(1, 2))
    return out.view(b, h * c, k, s)


def _attention_backward(
    x: torch.Tensor, attention: torch.Tensor, grad: torch.Tensor, need_x: bool, need_map: bool
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Gradients of :func:`apply_attention` for ``grad (B, H*C, K, S)``: ``(dx, dA)``."""
    b, c, k, s = x.shape
    h = attention.shape[1]
    grad_x = grad_map = None
    if attention.dim() == 4:
        rows, grads = x.reshape(b, c * k, s), grad.reshape(b, h, c * k, s)  # any memory format
        if need_x:
            grad_x = torch.zeros_like(rows)
            for head in range(h):
                grad_x.baddbmm_(grads[:, head], attention[:, head].transpose(1, 2))
            grad_x = grad_x.view(b, c, k, s)
        if need_map:
            grad_map = torch.stack([rows.transpose(1, 2) @ grads[:, head] for head in range(h)], 1)
        return grad_x, grad_map
    rows = x.transpose(1, 2).reshape(b * k, c, s)
    grads = grad.reshape(b, h, c, k, s).transpose(2, 3).reshape(b, h, k * c, s)  # one copy
    maps = attention.reshape(b, h, k, s, s)
    if need_x:
        grad_rows = torch.zeros_like(rows)
        for head in range(h):
            grad_rows.baddbmm_(grads[:, head].reshape(b * k, c, s), maps[:, head].reshape(b * k, s, s).mT)
        grad_x = grad_rows.view(b, k, c, s).transpose(1, 2).contiguous()
    if need_map:
        per_head = [rows.mT @ grads[:, head].reshape(b * k, c, s) for head in range(h)]  # (B*K, S, S)
        grad_map = torch.stack(per_head, 0).view(h, b, k, s, s).transpose(0, 1)
    return grad_x, grad_map


def _compute_dtype(x: torch.Tensor, attention: torch.Tensor) -> torch.dtype:
    """The dtype autocast runs ``conv2d`` / ``bmm`` in here; outside autocast (and for float64
    inputs, which autocast leaves alone), the inputs' common dtype."""
    device = x.device.type
    common = torch.promote_types(x.dtype, attention.dtype)
    if common != torch.float64 and torch.amp.is_autocast_available(device):
        if torch.is_autocast_enabled(device):
            return torch.get_autocast_dtype(device)
    return common


def _cast(tensors: tuple, dtype: torch.dtype) -> tuple:
    return tuple(None if t is None else t.to(dtype) for t in tensors)


def _attend_convolve(x, attention, weight, bias, padding) -> torch.Tensor:
    """``conv2d(apply_attention(x, A), W, b)``, every input already in one dtype (autocast's
    casts, made explicit so that the backward pass can repeat them)."""
    available = torch.amp.is_autocast_available(x.device.type)  # not on the meta device (cost counts)
    with torch.autocast(x.device.type, enabled=False) if available else contextlib.nullcontext():
        return F.conv2d(apply_attention(x, attention), weight, bias, padding=padding)


class _AttendAndConvolve(torch.autograd.Function):
    """``conv2d(apply_attention(x, A), W, b)`` saving ``x``, ``A`` and ``W`` only, in the dtype
    they are computed in (under autocast: the low-precision copies, as autocast itself would)."""

    @staticmethod
    def forward(ctx, x, attention, weight, bias, padding):  # noqa: D102
        xs, maps, w, b = _cast((x, attention, weight, bias), _compute_dtype(x, attention))
        out = _attend_convolve(xs, maps, w, b, padding)
        ctx.save_for_backward(xs, maps, w)
        ctx.dtypes = (x.dtype, attention.dtype, weight.dtype)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        xs, maps, w = ctx.saved_tensors
        x_dtype, map_dtype, weight_dtype = ctx.dtypes
        need_x, need_map, need_w, need_b = ctx.needs_input_grad[:4]
        attended = apply_attention(xs, maps)
        grad_attended, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad.to(attended.dtype),
            attended,
            w,
            [w.shape[0]] if ctx.has_bias else None,
            [1, 1],
            list(ctx.padding),
            [1, 1],
            False,
            [0, 0],
            1,
            [need_x or need_map, need_w, need_b and ctx.has_bias],
        )
        del attended
        grad_x = grad_map = None
        if need_x or need_map:
            grad_x, grad_map = _attention_backward(xs, maps, grad_attended, need_x, need_map)
        return (
            None if grad_x is None else grad_x.to(x_dtype),
            None if grad_map is None else grad_map.to(map_dtype),
            None if grad_w is None else grad_w.to(weight_dtype),
            None if grad_b is None else grad_b.to(weight_dtype),
            None,
        )


def attend_and_convolve(x: torch.Tensor, attention: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(apply_attention(x, attention))``: ``(B, C, K, S) -> (B, C_out, K, S)``. While
    gradients are recorded the attended ``(B, H*C, K, S)`` tensor is rebuilt in the backward
    pass instead of being stored."""
    tensors = (x, attention, conv.weight, conv.bias)
    if not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)):
        cast = _cast(tensors, _compute_dtype(x, attention))
        return _attend_convolve(*cast, conv.padding)
    return _AttendAndConvolve.apply(x, attention, conv.weight, conv.bias, conv.padding)
