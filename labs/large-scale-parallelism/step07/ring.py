"""Context parallelism: causal attention over a sequence split into cp chunks, with ring passes of K and V.

Rank i holds queries, keys and values of positions [i*c, (i+1)*c). In round r it holds the K/V chunk
of rank (i - r) mod cp, attends to it, and merges the result into its running output with the
online-softmax rule; then every rank passes the chunk it holds to the next rank of the ring.
"""
from __future__ import annotations

import math

import torch
import torch.distributed as dist

import tp as tp_ops


def ring_exchange(x, cp, reverse: bool = False):
    """Send x to the next rank of the ring and receive the previous rank's (the other way if reverse)."""
    step = -1 if reverse else 1
    dst = cp.ranks[(cp.index + step) % cp.size]
    src = cp.ranks[(cp.index - step) % cp.size]
    out = torch.empty_like(x)
    tp_ops.COMM.append(("cp", "send", x.numel() * x.element_size()))
    reqs = [dist.isend(x.contiguous(), dst), dist.irecv(out, src)]
    for r in reqs:
        r.wait()
    return out


class RingPass(torch.autograd.Function):
    """Forward: K/V move one rank along the ring. Backward: their gradients move one rank back."""

    @staticmethod
    def forward(ctx, x, cp):
        ctx.cp = cp
        return ring_exchange(x, cp)

    @staticmethod
    def backward(ctx, grad):
        return ring_exchange(grad, ctx.cp, reverse=True), None


def block_mask(q_chunk: int, kv_chunk: int, c: int):
    """Which keys of chunk kv_chunk the queries of chunk q_chunk may see: all, none, or the causal triangle."""
    if kv_chunk < q_chunk:
        return "all"
    if kv_chunk > q_chunk:
        return "none"
    return torch.ones(c, c, dtype=torch.bool).tril()


def block_attention(q, k, v, mask):
    """One block: the output softmax(s) v and the log-sum-exp of each score row s = q k^T / sqrt(d)."""
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if not isinstance(mask, str):
        s = s.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(s, dim=-1, keepdim=True)
    return torch.exp(s - lse) @ v, lse


def ring_attention(q, k, v, cp):
    """Causal attention of this rank's chunk of queries to the whole sequence; q (B, H, c, d), k, v (B, Hkv, c, d)."""
    c = q.shape[2]
    kv = torch.stack([k, v])
    out = lse = None
    for r in range(cp.size):
        source = (cp.index - r) % cp.size          # whose K/V chunk this rank holds in round r
        mask = block_mask(cp.index, source, c)
        if isinstance(mask, str) and mask == "none":
            # A chunk from the future adds nothing, but it stays in the autograd graph (times 0): the
            # backward ring passes are collectives, and every rank must take part in each of them.
            out = out + 0.0 * kv.sum()
        else:
            o, l = block_attention(q, kv[0], kv[1], mask)
            if out is None:
                out, lse = o, l
            else:                                  # online softmax: rescale both parts to the new total
                new = torch.logaddexp(lse, l)
                out = out * torch.exp(lse - new) + o * torch.exp(l - new)
                lse = new
        if r < cp.size - 1:
            kv = RingPass.apply(kv, cp)
    return out
