"""Every registered backend equals an independent reference, and the engine gives transformers' tokens with each."""
import math

import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from attention import PagedKVCache, token_slots
from backends import ACTIVATION, ATTENTION, GPU_ONLY, RMSNORM, KernelConfig
from engine import LLMEngine
from sequence import SamplingParams
from tiny_model import random_prompts


@pytest.mark.parametrize("name", sorted(RMSNORM))
@pytest.mark.parametrize("rows,dim", [(5, 64), (3, 200)])  # 200: not a multiple of any block width
def test_rmsnorm_backend_against_float64_numpy(name, rows, dim):
    g = torch.Generator().manual_seed(rows)
    x, w = 3 * torch.randn(rows, dim, generator=g), 1 + 0.1 * torch.randn(dim, generator=g)
    res = torch.randn(rows, dim, generator=g)
    x64, w64, h64 = x.double().numpy(), w.double().numpy(), (x + res).double().numpy()
    norm64 = lambda h: w64 * h / np.sqrt((h ** 2).mean(-1, keepdims=True) + 1e-6)  # noqa: E731
    # float32 against float64: the mean of squares sums `dim` terms; then a rsqrt and two products
    assert_close(RMSNORM[name](x, w, 1e-6), norm64(x64), torch.float32, terms=dim, depth=3)
    out, new_residual = RMSNORM[name](x, w, 1e-6, res)
    assert torch.equal(new_residual, x + res)  # one float32 add either way: the same bits
    assert_close(out, norm64(h64), torch.float32, terms=dim, depth=4)  # and the add's rounding before it


@pytest.mark.parametrize("name", sorted(ACTIVATION))
def test_silu_and_mul_backend_against_float64(name):
    g = torch.Generator().manual_seed(4)
    gate, up = 4 * torch.randn(7, 150, generator=g), torch.randn(7, 150, generator=g)
    expected = gate.double() * torch.sigmoid(gate.double()) * up.double()
    out = ACTIVATION[name](gate.clone(), up)  # a clone: the fused form writes into its input
    assert_close(out, expected, torch.float32, depth=3)  # exp, a division and a product: no reduction


def attention_loop64(q, keys, values, tables, lens, block_size, query_lens):
    """float64 attention of each request's last query_lens tokens over all of its cached tokens."""
    out = []
    for table, n, nq, qs in zip(tables, lens, query_lens, q.double().split(query_lens)):
        slots = [table[p // block_size] * block_size + p % block_size for p in range(n)]
        k, v = keys[slots].double(), values[slots].double()
        group = qs.shape[1] // k.shape[1]
        for i in range(nq):
            visible = n - nq + i + 1
            for h in range(qs.shape[1]):
                w = torch.softmax(k[:visible, h // group] @ qs[i, h] / math.sqrt(qs.shape[-1]), 0)
                out.append(w @ v[:visible, h // group])
    return torch.stack(out).view(q.shape), v.abs().max()


def filled_cache(block_size=4):
    torch.manual_seed(0)
    kv = PagedKVCache(num_layers=1, num_blocks=12, block_size=block_size, num_kv_heads=2, head_dim=8)
    kv.keys.normal_()
    kv.values.normal_()
    return kv


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_prefill_attention_backend_against_a_float64_loop(name):
    kv = filled_cache()
    tables, lens, query_lens = [[3, 6, 1], [5, 0]], [11, 6], [4, 6]  # request 0: 7 cached tokens, 4 new
    prefill, _ = ATTENTION[name]
    q, k, v = torch.randn(10, 4, 8), torch.randn(10, 2, 8), torch.randn(10, 2, 8)
    slots = torch.cat([token_slots(t, 4, n - nq, n) for t, n, nq in zip(tables, lens, query_lens)])
    out = prefill(kv, query_lens, lens, slots, tables).attention(0, q, k, v)
    expected, scale = attention_loop64(q, kv.keys[0], kv.values[0], tables, lens, 4, query_lens)
    # dot products of head_dim 8 terms, then weighted averages of at most 11 values (which may cancel)
    assert_close(out, expected, torch.float32, terms=11, depth=2, scale=scale)


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_decode_attention_backend_against_a_float64_loop(name):
    kv = filled_cache()
    tables, lens = [[3, 6, 1], [5, 0, 0], [7, 2, 9]], [11, 2, 9]  # rows padded with block 0
    _, decode = ATTENTION[name]
    q, k, v = torch.randn(3, 4, 8), torch.randn(3, 2, 8), torch.randn(3, 2, 8)
    slots = torch.cat([token_slots(t, 4, n - 1, n) for t, n in zip(tables, lens)])
    out = decode(kv, slots, torch.tensor(lens), torch.tensor(tables)).attention(0, q, k, v)
    expected, scale = attention_loop64(q, kv.keys[0], kv.values[0], tables, lens, 4, [1, 1, 1])
    assert_close(out, expected, torch.float32, terms=11, depth=2, scale=scale)


@pytest.fixture(scope="module")
def prompts_and_expected(hf_greedy):
    prompts = random_prompts(5, 2, 14, 512, seed=31)
    expected = [hf_greedy(p, 8) for p in prompts]
    assert len({t for out in expected for t in out}) > 5  # varied, or equality proves nothing
    return prompts, expected


def usable(table):
    """Names the engine test can run here: a GPU-only kernel under the interpreter would take minutes."""
    return sorted(n for n in table if n not in GPU_ONLY)


def every_name_once():
    """Specs that together use every CPU backend at least once (the i-th name of each table, cycling)."""
    tables = {"rmsnorm": usable(RMSNORM), "activation": usable(ACTIVATION), "attention": usable(ATTENTION)}
    return [",".join(f"{key}={names[i % len(names)]}" for key, names in tables.items())
            for i in range(max(map(len, tables.values())))]


@pytest.mark.parametrize("spec", every_name_once())  # "auto" is what every other engine test runs
def test_every_backend_gives_transformers_tokens_even_with_preemption(model_dir, prompts_and_expected, spec):
    prompts, expected = prompts_and_expected
    engine = LLMEngine(model_dir, max_num_seqs=4, num_kv_blocks=9, block_size=4, kernels=spec)
    assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=8))] == expected
    assert engine.scheduler.num_preemptions > 0


def test_auto_is_todays_code_and_bad_names_fail_clearly(model_dir):
    assert KernelConfig().resolve("cpu") == KernelConfig("fused", "fused", "gather")
    with pytest.raises(ValueError, match="unknown rmsnorm backend 'fast'"):
        LLMEngine(model_dir, kernels="rmsnorm=fast")
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        KernelConfig.parse("attention")


def test_bench_rejects_an_unknown_backend(capsys):
    import bench
    with pytest.raises(SystemExit) as exit:
        bench.main(["--kernels", "attention=nope"])
    assert exit.value.code == 2 and "unknown attention backend" in capsys.readouterr().err
