"""Prefill/decode op counts against a real PyTorch layer, the ridge batch against a search, and which side
of the ridge each phase lands on."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ceilings import DATASHEET
from intensity import matmul_op
from roofline import bound, ridge_point
from transformer_ops import LLAMA3_8B, LayerShape, attention_op, layer_ops, ridge_batch, roofline_seconds, total

TINY = LayerShape("tiny", d_model=64, n_heads=4, n_kv_heads=2, head_dim=16, d_ff=96, n_layers=1)
H100, H200 = DATASHEET["H100 SXM (datasheet, bf16)"], DATASHEET["H200 (datasheet, bf16)"]


class ReferenceLayer(torch.nn.Module):
    """A plain pre-norm Llama-style layer with GQA and SwiGLU, written independently of transformer_ops."""

    def __init__(self, s: LayerShape):
        super().__init__()
        self.s = s
        self.qkv = torch.nn.Linear(s.d_model, (s.n_heads + 2 * s.n_kv_heads) * s.head_dim, bias=False)
        self.o = torch.nn.Linear(s.n_heads * s.head_dim, s.d_model, bias=False)
        self.gate_up = torch.nn.Linear(s.d_model, 2 * s.d_ff, bias=False)
        self.down = torch.nn.Linear(s.d_ff, s.d_model, bias=False)
        self.attention_bytes = 0

    def forward(self, x, k_cache, v_cache):
        s, (b, t, _) = self.s, x.shape
        q, k, v = self.qkv(F.rms_norm(x, (s.d_model,))).split(
            [s.n_heads * s.head_dim, s.n_kv_heads * s.head_dim, s.n_kv_heads * s.head_dim], dim=-1)
        q = q.view(b, t, s.n_heads, s.head_dim).transpose(1, 2)
        k = torch.cat([k_cache, k.view(b, t, s.n_kv_heads, s.head_dim).transpose(1, 2)], dim=2)
        v = torch.cat([v_cache, v.view(b, t, s.n_kv_heads, s.head_dim).transpose(1, 2)], dim=2)
        group = s.n_heads // s.n_kv_heads
        scores = q @ k.repeat_interleave(group, dim=1).transpose(-1, -2) / math.sqrt(s.head_dim)
        out = torch.softmax(scores, dim=-1) @ v.repeat_interleave(group, dim=1)
        self.attention_bytes = q.nbytes + k.nbytes + v.nbytes + out.nbytes  # what a fused kernel must move
        x = x + self.o(out.transpose(1, 2).reshape(b, t, -1))
        gate, up = self.gate_up(F.rms_norm(x, (s.d_model,))).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up)


def run_reference(batch, q_len, kv_len):
    """(output, FLOPs counted by PyTorch, bytes each Linear moved, bytes attention moved)."""
    torch.manual_seed(0)
    layer = ReferenceLayer(TINY)
    x = torch.randn(batch, q_len, TINY.d_model)
    cache = [torch.randn(batch, TINY.n_kv_heads, kv_len - q_len, TINY.head_dim) for _ in range(2)]
    linear_bytes = []
    for m in (layer.qkv, layer.o, layer.gate_up, layer.down):
        m.register_forward_hook(
            lambda mod, inp, out: linear_bytes.append(inp[0].nbytes + mod.weight.nbytes + out.nbytes))
    with FlopCounterMode(display=False) as counter:
        out = layer(x, *cache)
    return out, counter.get_total_flops(), linear_bytes, layer.attention_bytes


@pytest.mark.parametrize("batch,q_len,kv_len", [(1, 6, 6), (3, 5, 5), (1, 1, 9), (4, 1, 17)])
def test_layer_ops_count_the_flops_and_bytes_a_real_layer_does(batch, q_len, kv_len):
    out, flops, linear_bytes, attention_bytes = run_reference(batch, q_len, kv_len)
    assert out.std() > 0.1  # the seeded layer computes something varied, not a constant
    ops = layer_ops(TINY, batch, q_len, kv_len, itemsize=4)  # the reference runs in float32
    matmuls = [op for op in ops if op.kind == "matmul"]
    attention = next(op for op in ops if op.kind == "attention")
    # FlopCounterMode counts matmuls (Linear and the two attention matmuls), not norms or softmax
    assert sum(op.flops for op in matmuls) + attention.flops == flops
    assert [op.bytes for op in matmuls] == linear_bytes
    assert attention.bytes == attention_bytes


@pytest.mark.parametrize("n,k,itemsize,ridge", [(4096, 4096, 2, 295.2), (6144, 4096, 2, 206.0), (8192, 4096, 4, 10.0),
                                                (100, 300, 2, 20.0), (4096, 14336, 1, 591.0)])
def test_ridge_batch_is_the_first_batch_whose_intensity_reaches_the_ridge(n, k, itemsize, ridge):
    found = next(b for b in range(1, 100_000) if matmul_op("", b, n, k, itemsize).intensity >= ridge)
    assert ridge_batch(n, k, ridge, itemsize) == found


def test_ridge_batch_is_none_when_even_infinite_batch_cannot_reach_the_ridge():
    # (B x 64) @ (64 x 64) in bf16 tends to 2*64*64 / (2 * 128) = 32 FLOP/byte
    assert ridge_batch(64, 64, 32.0, 2) is None
    assert matmul_op("", 10**7, 64, 64, 2).intensity < 32.0


@pytest.mark.parametrize("gpu", [H100, H200])
def test_prefill_is_compute_bound_and_decode_at_batch_one_is_memory_bound(gpu):
    for op in layer_ops(LLAMA3_8B, 1, 2048, 2048):
        if op.kind in ("matmul", "attention"):
            assert bound(op, *gpu) == "compute", op.name
    for op in layer_ops(LLAMA3_8B, 1, 1, 2048):
        assert bound(op, *gpu) == "memory", op.name


def measured_decode_attention(s: LayerShape, batch: int, kv_len: int) -> tuple[int, int]:
    """(FLOPs PyTorch counts, bytes of Q, K, V and O) of one decode step's attention, on meta tensors in bf16:
    the full Llama-3-8B shapes cost no memory and no time."""
    meta = dict(device="meta", dtype=torch.bfloat16)
    q = torch.empty(batch, s.n_heads, 1, s.head_dim, **meta)
    k, v = (torch.empty(batch, s.n_kv_heads, kv_len, s.head_dim, **meta) for _ in range(2))
    group = s.n_heads // s.n_kv_heads
    with FlopCounterMode(display=False) as counter:
        scores = q @ k.repeat_interleave(group, dim=1).transpose(-1, -2)
        out = torch.softmax(scores, dim=-1) @ v.repeat_interleave(group, dim=1)
    return counter.get_total_flops(), q.nbytes + k.nbytes + v.nbytes + out.nbytes


@pytest.mark.parametrize("batch", [1, 64, 1024])
def test_decode_attention_intensity_does_not_grow_with_batch(batch):
    # Q, O and the KV cache are all per sequence: FLOPs and bytes both grow with the batch.
    flops, nbytes = measured_decode_attention(LLAMA3_8B, batch, 8192)
    op = attention_op("a", LLAMA3_8B, batch, 1, 8192)
    assert (op.flops, op.bytes) == (flops, nbytes)
    one_flops, one_bytes = measured_decode_attention(LLAMA3_8B, 1, 8192)
    assert flops / nbytes == one_flops / one_bytes  # the same ratio, counted at batch 1 and at this batch
    # GQA with s = 2: 4 H L d / (2 (2 H d + 2 L Hkv d)) -> H / Hkv = 4 FLOP/byte as L grows (rel: L finite)
    assert op.intensity == pytest.approx(32 / 8, rel=0.01)
    assert bound(op, *H100) == "memory"


def test_decode_weight_matmuls_cross_the_ridge_at_the_ridge_batch():
    ridge = ridge_point(*H100)
    b = ridge_batch(2 * LLAMA3_8B.d_ff, LLAMA3_8B.d_model, ridge)
    assert 250 < b < 400  # roughly the ridge in FLOP/byte: bf16 weights do ~1 FLOP/byte per token
    gate_up = lambda batch: layer_ops(LLAMA3_8B, batch, 1, 2048)[5]
    assert gate_up(b - 1).intensity < ridge <= gate_up(b).intensity


def test_decode_at_batch_one_takes_as_long_as_reading_the_weights_once():
    layer = total(layer_ops(LLAMA3_8B, 1, 1, 2048), "decode")
    params = (4096 * 6144 + 4096 * 4096 + 4096 * 2 * 14336 + 14336 * 4096)  # one layer's weights, by hand
    seconds = roofline_seconds(layer, *H100)
    assert seconds == layer.bytes / H100[1]  # memory-bound: the bytes' time, exactly
    assert 2 * params / H100[1] < seconds < 1.1 * 2 * params / H100[1]  # weights dominate; KV cache adds a little
