"""One transformer layer's ops at prefill and at decode, and the batch where decode turns compute-bound.

Prefill pushes the whole prompt (batch x prompt tokens) through every weight matrix at once;
decode pushes one new token per sequence, yet still reads every weight and the whole KV cache.
A weight's bytes do not depend on how many tokens share it, so a weight matmul's intensity
grows with the token count: batching decode requests is how serving climbs toward the ridge.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from intensity import Op, matmul_op, rmsnorm_op


@dataclass(frozen=True)
class LayerShape:
    name: str
    d_model: int
    n_heads: int
    n_kv_heads: int  # fewer than n_heads with grouped-query attention (GQA)
    head_dim: int
    d_ff: int
    n_layers: int


# Llama-3-8B's published config: hidden 4096, 32 heads, 8 KV heads, head dim 128, MLP 14336, 32 layers.
LLAMA3_8B = LayerShape("Llama-3-8B", 4096, 32, 8, 128, 14336, 32)


def attention_op(name: str, shape: LayerShape, batch: int, q_len: int, kv_len: int, itemsize: int = 2) -> Op:
    """Fused attention (the way FlashAttention runs it): Q K^T and P V for every query head,
    2 * q_len * kv_len * head_dim FLOPs each. Bytes: read Q, K, V and write O once; the scores
    never leave fast memory. K and V have n_kv_heads heads: at decode they are the KV cache."""
    flops = 4 * batch * shape.n_heads * q_len * kv_len * shape.head_dim
    q_and_o = 2 * batch * q_len * shape.n_heads * shape.head_dim
    k_and_v = 2 * batch * kv_len * shape.n_kv_heads * shape.head_dim
    return Op(name, "attention", (batch, q_len, kv_len), flops, itemsize * (q_and_o + k_and_v))


def layer_ops(shape: LayerShape, batch: int, q_len: int, kv_len: int, itemsize: int = 2) -> list[Op]:
    """The ops of one pre-norm layer. Prefill: q_len = kv_len = prompt length.
    Decode: q_len = 1 and kv_len = tokens so far. (Residual adds and the SwiGLU product are left out:
    a few percent of the bytes, almost none of the FLOPs.)"""
    tokens = batch * q_len  # rows that go through the weight matrices together
    d, attn = shape.d_model, shape.n_heads * shape.head_dim
    qkv = (shape.n_heads + 2 * shape.n_kv_heads) * shape.head_dim
    return [
        rmsnorm_op("attention norm", tokens, d, itemsize),
        matmul_op("QKV projection", tokens, qkv, d, itemsize),
        attention_op("attention", shape, batch, q_len, kv_len, itemsize),
        matmul_op("output projection", tokens, d, attn, itemsize),
        rmsnorm_op("MLP norm", tokens, d, itemsize),
        matmul_op("gate+up projection", tokens, 2 * shape.d_ff, d, itemsize),
        matmul_op("down projection", tokens, d, shape.d_ff, itemsize),
    ]


def total(ops: list[Op], name: str) -> Op:
    return Op(name, "layer", (), sum(op.flops for op in ops), sum(op.bytes for op in ops))


def ridge_batch(n: int, k: int, ridge: float, itemsize: int = 2) -> int | None:
    """Fewest tokens B for which a (B x k) @ (k x n) matmul reaches intensity `ridge`:
        2Bnk / (s (Bk + kn + Bn)) >= R   <=>   B (2nk - sR(k + n)) >= sRkn.
    None if no batch does: the intensity tends to 2nk / (s(k + n)) as B grows."""
    headroom = 2 * n * k - itemsize * ridge * (k + n)
    if headroom <= 0:
        return None
    return math.ceil(itemsize * ridge * k * n / headroom)


def roofline_seconds(op: Op, peak: float, bandwidth: float) -> float:
    """The least time the op can take: it must do its FLOPs and move its bytes."""
    return max(op.flops / peak, op.bytes / bandwidth)
