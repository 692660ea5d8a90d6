"""Packed (varlen) prefill equals the per-request loop: the CPU form and the Triton kernel (interpreter on a CPU)."""
import pytest
import torch
from dlc_shared.testing import assert_close, gpu

from attention import PackedPrefillAttention, PackedPrefillAttentionTriton, PagedAttention, PagedKVCache, token_slots


@pytest.fixture(scope="module")
def case():
    """4 requests: one fresh, one with 13 cached tokens and 3 new, one single token, one 21 tokens; head_dim 64."""
    torch.manual_seed(0)
    kv = PagedKVCache(num_layers=1, num_blocks=16, block_size=8, num_kv_heads=2, head_dim=64)
    kv.keys.normal_()
    kv.values.normal_()
    tables = [[3, 9], [0, 14, 6], [11], [5, 1, 12]]
    context_lens, query_lens = [10, 16, 1, 21], [10, 3, 1, 21]
    slots = torch.cat([token_slots(t, 8, n - nq, n) for t, n, nq in zip(tables, context_lens, query_lens)])
    q = torch.randn(sum(query_lens), 4, 64)
    k, v = torch.randn(sum(query_lens), 2, 64), torch.randn(sum(query_lens), 2, 64)
    expected = PagedAttention(kv, query_lens, context_lens, slots, tables).attention(0, q, k, v)  # the loop
    return kv, (query_lens, context_lens, slots, tables), (q, k, v), expected


def close(out, expected, kv):
    # Another summation order: dot products of 64 terms, then averages of <= 21 values (which may cancel).
    assert_close(out, expected, torch.float32, terms=64, depth=3, scale=kv.values.abs().max())


@pytest.mark.parametrize("cls", [PackedPrefillAttention, PackedPrefillAttentionTriton])
def test_packed_prefill_equals_the_per_request_loop(case, cls):
    kv, meta, qkv, expected = case
    ctx = cls(kv, *meta)
    assert ctx.cu_seqlens_q == [0, 10, 13, 14, 35] and ctx.cu_seqlens_k == [0, 10, 26, 27, 48]
    close(ctx.attention(0, *qkv), expected, kv)


def test_a_request_does_not_see_its_neighbours(case):
    kv, (query_lens, context_lens, slots, tables), (q, k, v), expected = case
    ctx = PackedPrefillAttention(kv, query_lens[1:2], context_lens[1:2], slots[10:13], tables[1:2])  # alone
    close(ctx.attention(0, q[10:13], k[10:13], v[10:13]), expected[10:13], kv)


@gpu
def test_packed_triton_prefill_gives_transformers_tokens_on_a_gpu(model_dir, hf_greedy):
    from engine import LLMEngine
    from sequence import SamplingParams
    from tiny_model import random_prompts
    prompts = random_prompts(5, 2, 20, 512, seed=16)
    expected = [hf_greedy(p, 10) for p in prompts]
    engine = LLMEngine(model_dir, max_num_seqs=4, num_kv_blocks=9, block_size=4, device="cuda", kernels="attention=paged")
    assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=10))] == expected
