"""Attention over flat tokens: where the tokens of one request meet each other.

model.py computes q, k, v for every token and hands them to `ctx.attention`;
the ctx object knows which tokens belong together. This step packs several
requests into one flat row; each brings only its *new* tokens and keeps the keys
and values of its older tokens in its own KV cache.
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


class KVCache:
    """One request's keys and values, per layer: they never change once computed, so keep them."""

    def __init__(self, num_layers: int):
        self.keys: list[torch.Tensor | None] = [None] * num_layers
        self.values: list[torch.Tensor | None] = [None] * num_layers

    def append(self, layer_idx: int, k: torch.Tensor, v: torch.Tensor):
        if self.keys[layer_idx] is None:
            self.keys[layer_idx], self.values[layer_idx] = k, v
        else:  # torch.cat copies the whole cache each step; step06 stores into fixed blocks instead
            self.keys[layer_idx] = torch.cat([self.keys[layer_idx], k])
            self.values[layer_idx] = torch.cat([self.values[layer_idx], v])
        return self.keys[layer_idx], self.values[layer_idx]

    @property
    def num_tokens(self) -> int:
        return 0 if self.keys[0] is None else self.keys[0].shape[0]


class CachedAttention:
    """Several requests side by side in one flat row, each with only its new tokens."""

    def __init__(self, query_lens: list[int], caches: list[KVCache]):
        self.query_lens = query_lens  # tokens [0, n0) are request 0, [n0, n0+n1) request 1, ...
        self.caches = caches

    def attention(self, layer_idx, q, k, v):
        outs, start = [], 0
        for n, cache in zip(self.query_lens, self.caches):  # a request never sees another's tokens
            end = start + n
            keys, values = cache.append(layer_idx, k[start:end], v[start:end])
            outs.append(causal_attention(q[start:end], keys, values))  # new queries over all keys
            start = end
        return torch.cat(outs)
