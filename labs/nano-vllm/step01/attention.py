"""Attention over flat tokens: where the tokens of one request meet each other.

model.py computes q, k, v for every token and hands them to `ctx.attention`;
the ctx object knows which tokens belong together. This step has one request
whose whole history is recomputed every step, so the ctx is trivial.
"""
import torch
import torch.nn.functional as F


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Softmax attention of one request.

    q: [num_q, heads, head_dim]; k, v: [num_k, kv_heads, head_dim] with num_q <= num_k.
    The queries are the *last* num_q positions of the num_k keys, so query i may
    look at keys 0 .. i + (num_k - num_q): the causal mask, shifted.
    """
    num_q, num_k = q.shape[0], k.shape[0]
    group = q.shape[1] // k.shape[1]  # grouped-query attention: kv heads are shared
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    mask = torch.ones(num_q, num_k, dtype=torch.bool, device=q.device).tril(diagonal=num_k - num_q)
    out = F.scaled_dot_product_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), attn_mask=mask)
    return out.transpose(0, 1)


class FullRecompute:
    """One request, all of its tokens fed again at every step (no cache yet)."""

    def attention(self, layer_idx, q, k, v):
        return causal_attention(q, k, v)
