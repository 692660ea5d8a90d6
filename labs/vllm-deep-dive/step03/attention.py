"""Attention over flat tokens: where the tokens of one request meet each other.

model.py computes q, k, v for every token and hands them to `ctx.attention`;
the ctx object knows which tokens belong together. This step packs several
requests into one flat row; each brings only its *new* tokens. The keys and
values of all requests live in one pool of fixed-size blocks, and each request's
block table says which blocks are its own. A decode step (one new token per
request) has its own batched path with fixed-shape tensors, so that a CUDA graph
can record it once and replay it.
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


def token_slots(block_table: list[int], block_size: int, start: int, end: int) -> torch.Tensor:
    """Where tokens start..end-1 of a request live in the flat pool."""
    positions = torch.arange(start, end)
    return torch.tensor(block_table)[positions // block_size] * block_size + positions % block_size


class PagedKVCache:
    """Keys and values of every request, in num_blocks blocks of block_size token slots each."""

    def __init__(self, num_layers, num_blocks, block_size, num_kv_heads, head_dim, dtype=torch.float32,
                 device="cpu"):
        self.block_size = block_size
        # Slots are flat: block b holds slots b*block_size .. (b+1)*block_size-1. One extra slot at
        # the end is scratch space where the padding rows of a CUDA-graph batch write harmlessly.
        self.scratch_slot = num_blocks * block_size
        shape = (num_layers, num_blocks * block_size + 1, num_kv_heads, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)


class PagedAttention:
    """Several requests side by side in one flat row, each with only its new tokens."""

    def __init__(self, kv_cache: PagedKVCache, query_lens: list[int], context_lens: list[int],
                 slot_mapping: torch.Tensor, block_tables: list[list[int]]):
        self.kv_cache = kv_cache
        self.query_lens = query_lens      # tokens [0, n0) are request 0, [n0, n0+n1) request 1, ...
        self.context_lens = context_lens  # how many tokens each request has, new ones included
        self.slot_mapping = slot_mapping  # the pool slot of every new token
        self.block_tables = block_tables

    def attention(self, layer_idx, q, k, v):
        keys, values = self.kv_cache.keys[layer_idx], self.kv_cache.values[layer_idx]
        keys[self.slot_mapping] = k  # store the new tokens' keys and values in their slots
        values[self.slot_mapping] = v
        outs, start = [], 0
        for n, context_len, block_table in zip(self.query_lens, self.context_lens, self.block_tables):
            end = start + n
            slots = token_slots(block_table, self.kv_cache.block_size, 0, context_len)  # gather its blocks
            outs.append(causal_attention(q[start:end], keys[slots], values[slots]))  # new queries, all keys
            start = end
        return torch.cat(outs)


class PagedDecodeAttention:
    """One new token per request, all requests at once: no Python loop, every shape fixed by the batch."""

    def __init__(self, kv_cache: PagedKVCache, slot_mapping: torch.Tensor, context_lens: torch.Tensor,
                 block_tables: torch.Tensor):
        self.kv_cache = kv_cache
        self.slot_mapping = slot_mapping  # [batch]: where each new token's key and value go
        self.context_lens = context_lens  # [batch]: tokens per request, the new one included
        self.block_tables = block_tables  # [batch, max_blocks], rows padded with any block id

    def attention(self, layer_idx, q, k, v):
        keys, values = self.kv_cache.keys[layer_idx], self.kv_cache.values[layer_idx]
        keys[self.slot_mapping] = k
        values[self.slot_mapping] = v
        block_size = self.kv_cache.block_size
        offsets = torch.arange(block_size, device=q.device)
        slots = (self.block_tables[:, :, None] * block_size + offsets).flatten(1)  # [batch, max_blocks*block_size]
        # index_select on the flat slot list is the same gather as keys[slots], about 3x faster on a CPU.
        k_ctx = keys.index_select(0, slots.flatten()).view(*slots.shape, *keys.shape[1:]).transpose(1, 2)
        v_ctx = values.index_select(0, slots.flatten()).view(*slots.shape, *values.shape[1:]).transpose(1, 2)
        # k_ctx, v_ctx: [batch, kv_heads, slots, head_dim]
        # Slots past a request's length hold padding or other tokens: mask them out.
        visible = torch.arange(slots.shape[1], device=q.device)[None, :] < self.context_lens[:, None]
        out = F.scaled_dot_product_attention(q[:, :, None, :], k_ctx, v_ctx, attn_mask=visible[:, None, None, :],
                                             enable_gqa=True)  # kv head h // group serves query head h
        return out[:, :, 0, :]  # [batch, heads, head_dim]
