"""Paged decode attention that walks the block table equals the gather version (Triton under the interpreter on a CPU)."""
import pytest
import torch
from dlc_shared.testing import assert_close, gpu

from attention import PagedDecodeAttention, PagedKVCache, paged_decode_chunked


@pytest.fixture(scope="module")
def case():
    """3 requests in a pool of 16-slot blocks, head_dim 64; lengths hit 1 token, a full block and a ragged tail."""
    torch.manual_seed(0)
    kv = PagedKVCache(num_layers=1, num_blocks=12, block_size=16, num_kv_heads=2, head_dim=64)
    kv.keys.normal_()
    kv.values.normal_()
    tables = torch.tensor([[4, 0, 0], [7, 0, 0], [2, 9, 5]])  # padding columns name real blocks: they must be ignored
    lens = torch.tensor([1, 16, 37])
    q = torch.randn(3, 4, 64)
    keys, values = kv.keys[0], kv.values[0]
    ctx = PagedDecodeAttention(kv, torch.tensor([kv.scratch_slot] * 3), lens, tables)
    expected = ctx.attention(0, q, keys[-1:].expand(3, -1, -1), values[-1:].expand(3, -1, -1))  # gather version
    return q, keys, values, tables, lens, expected


def close(out, expected, values):
    # Another summation order (online softmax, blocks of 16): dot products of 64 terms, then averages of <= 37
    # values, which may cancel: the values' size is the scale.
    assert_close(out, expected, torch.float32, terms=64, depth=3, scale=values.abs().max())


def test_triton_paged_kernel_equals_the_gather_version(case):
    from triton_kernels import paged_decode_triton
    q, keys, values, tables, lens, expected = case
    close(paged_decode_triton(q, keys, values, tables, lens, 16), expected, values)


@pytest.mark.parametrize("chunk_blocks", [1, 2, 4])
def test_chunked_cpu_form_equals_the_gather_version(case, chunk_blocks):
    q, keys, values, tables, lens, expected = case
    close(paged_decode_chunked(q, keys, values, tables, lens, 16, chunk_blocks), expected, values)


def test_a_request_sees_only_its_own_blocks(case):
    q, keys, values, tables, lens, expected = case
    other = tables.clone()
    other[0, 1:] = torch.tensor([9, 5])  # request 0 (1 token) now names request 2's blocks past its length
    out = paged_decode_chunked(q, keys, values, other, lens, 16)
    close(out, expected, values)
    assert torch.equal(out[0], paged_decode_chunked(q[:1], keys, values, tables[:1, :1], lens[:1], 16)[0])


@gpu
def test_paged_backend_gives_transformers_tokens_on_a_gpu(model_dir, hf_greedy):
    from engine import LLMEngine
    from sequence import SamplingParams
    from tiny_model import random_prompts
    prompts = random_prompts(4, 2, 20, 512, seed=16)
    expected = [hf_greedy(p, 10) for p in prompts]
    for eager in (True, False):  # eager, then replayed in CUDA graphs
        engine = LLMEngine(model_dir, max_num_seqs=4, device="cuda", kernels="attention=paged", enforce_eager=eager)
        assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=10))] == expected
