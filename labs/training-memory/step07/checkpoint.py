"""Activation checkpointing written out: keep a block's input, recompute the rest in backward.

Forward runs the block under no_grad, so none of its ops save anything; the only
tensor kept is the block's input. Backward runs the block forward again, this time
recording a graph, and backpropagates through that fresh graph right away. Memory:
one input per block plus one block's activations at a time. Cost: one extra forward
of every checkpointed block (backward is ~2 forwards, so ~4/3 of the compute).
"""
from __future__ import annotations

import torch


class Checkpoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, fn, x, *params):
        ctx.fn, ctx.params = fn, params  # parameters live anyway: kept by reference, not saved
        ctx.save_for_backward(x)  # the one activation this block keeps
        with torch.no_grad():
            return fn(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        x = x.detach().requires_grad_()
        with torch.enable_grad():
            out = ctx.fn(x)  # the recomputation: the extra compute we pay
        grads = torch.autograd.grad(out, (x, *ctx.params), grad_out)
        return (None, *grads)


def checkpoint(fn, x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """fn(x), with its activations recomputed in backward instead of kept. `params` are the
    tensors fn uses; autograd must see them as inputs to route their gradients."""
    return Checkpoint.apply(fn, x, *params)
