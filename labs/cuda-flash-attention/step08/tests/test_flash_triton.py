"""The Triton FlashAttention forward against float64 attention and torch SDPA (Triton's interpreter on a CPU)."""
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is imported: run the kernel in NumPy

import importlib.util  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import flash_triton  # noqa: E402
import reference as ref  # noqa: E402
from dlc_shared.testing import assert_close, gpu  # noqa: E402
from flash_triton import attention_triton, triton_sdpa  # noqa: E402

sdpa = torch.nn.functional.scaled_dot_product_attention


def qkv(shape, seed, device="cpu", dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(shape, generator=g).to(device, dtype) for _ in range(3))


def check(o, lse, q, k, v, causal, scale=None):
    """O and lse of float32 inputs against the float64 reference: sums of up to n terms, d-term dot products."""
    n, d = q.shape[-2:]
    o_ref, lse_ref = ref.attention(q.cpu().numpy(), k.cpu().numpy(), v.cpu().numpy(), causal, scale)
    assert_close(o.cpu(), o_ref, torch.float32, terms=max(n, d), depth=3, scale=float(v.abs().max()))
    # lse = m + log(l): m carries the scores' rounding, log(l) l's relative error as an absolute one (scale >= 1)
    s_max = float(np.abs(q.double().cpu().numpy() @ np.swapaxes(k.double().cpu().numpy(), -1, -2)).max())
    assert_close(lse.cpu(), lse_ref, torch.float32, terms=max(n, d), depth=3,
                 scale=max(1.0, s_max * (scale or d**-0.5)))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads,n,d,bm,bn", [(1, 1, 16, 16, 16),     # one query, one key
                                             (2, 40, 16, 16, 16),    # n not a multiple of the block: masked tail
                                             (3, 70, 32, 32, 16),    # BLOCK_M != BLOCK_N: uneven causal diagonal
                                             (1, 130, 64, 64, 64)])  # three query blocks of 64
def test_output_and_logsumexp_match_float64(heads, n, d, bm, bn, causal):
    q, k, v = qkv((heads, n, d), n + d)
    o, lse = attention_triton(q, k, v, causal, block_m=bm, block_n=bn)
    assert o.shape == q.shape and o.dtype == torch.float32 and lse.shape == (heads, n)
    assert n == 1 or float(o.std()) > 0.05  # varied outputs
    check(o, lse, q, k, v, causal)
    if causal:
        assert torch.equal(o[:, 0], v[:, 0])  # the first query sees key 0 alone: p = 1, l = 1, exactly v_0


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_interface_matches_sdpa(causal):
    q, k, v = qkv((2, 3, 33, 16), 7)
    exact = sdpa(q.double(), k.double(), v.double(), is_causal=causal, scale=0.05)
    ours = triton_sdpa(q, k, v, is_causal=causal, scale=0.05)
    assert ours.shape == q.shape and ours.dtype == torch.float32
    assert_close(ours, exact, torch.float32, terms=33, depth=3, scale=float(v.abs().max()))
    # swapping two heads of the input swaps those heads of the output: batch and heads fold back in place
    perm = [2, 0, 1]
    assert torch.equal(triton_sdpa(q[:, perm], k[:, perm], v[:, perm], is_causal=causal, scale=0.05), ours[:, perm])


def test_bad_input_says_what_is_wrong():
    q = torch.zeros(1, 2, 4, 16)
    with pytest.raises(ValueError, match="one \\(batch, heads, n, d\\) shape"):
        triton_sdpa(q, q, q[:, :, :3])
    with pytest.raises(ValueError, match="power of two"):
        attention_triton(*(torch.zeros(1, 4, 24),) * 3)
    with pytest.raises(ValueError, match="float32, bfloat16 or float16"):
        attention_triton(*(torch.zeros(1, 4, 16, dtype=torch.float64),) * 3)


def mutant(tmp_path, old: str, new: str, name: str):
    """flash_triton with one piece of its source replaced, loaded as a separate module."""
    source = open(flash_triton.__file__).read()
    assert old in source
    path = tmp_path / f"{name}.py"
    path.write_text(source.replace(old, new))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,old,new,causal", [
    ("no_rescale", "l = l * alpha + tl.sum", "l = l + tl.sum", False),         # the old sum kept under the old max
    ("no_rescale_acc", "acc = acc * alpha[:, None] +", "acc = acc +", False),
    ("skip_diagonal", "tl.minimum(start_m + BLOCK_M, n)", "tl.minimum(start_m, n)", True),
    ("lse_without_l", "(m + tl.log2(l)) / LOG2E", "m / LOG2E", False),
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a row with no key divides 0 by 0
def test_the_checks_fail_on_broken_kernels(tmp_path, name, old, new, causal):
    q, k, v = qkv((1, 48, 16), 3)
    check(*attention_triton(q, k, v, causal, block_m=16, block_n=16), q, k, v, causal)  # as written: passes
    broken = mutant(tmp_path, old, new, f"flash_triton_{name}")
    o, lse = broken.attention_triton(q, k, v, causal, block_m=16, block_n=16)
    with pytest.raises(AssertionError):
        check(o, lse, q, k, v, causal)


@gpu
@pytest.mark.parametrize("causal", [False, True])
def test_bf16_on_cuda_against_sdpa(causal):
    q, k, v = qkv((2, 4, 1000, 128), 11, "cuda", torch.bfloat16)
    exact = sdpa(q.double(), k.double(), v.double(), is_causal=causal)
    ours = triton_sdpa(q, k, v, is_causal=causal)
    assert ours.dtype == torch.bfloat16 and ours.shape == q.shape
    # Not a sum of n roundings: p is rounded to bf16 (relative 2^-8) inside a weighted average of v, which
    # stays within 2^-8 max|v| for any n, and the output is rounded once more on the store: depth 2, terms 1.
    assert_close(ours.double().cpu(), exact.cpu(), torch.bfloat16, depth=2, scale=float(v.abs().max()))
    theirs = sdpa(q, k, v, is_causal=causal)  # SDPA's own bf16 answer: the same two roundings on its side
    assert_close(ours.double().cpu(), theirs.double().cpu(), torch.bfloat16, depth=4, scale=float(v.abs().max()))
    o, lse = attention_triton(q[0], k[0], v[0], causal)
    s = q[0].double() @ k[0].double().transpose(1, 2) / 128**0.5
    if causal:
        s = s.masked_fill(torch.ones(1000, 1000, device="cuda", dtype=torch.bool).triu(1), float("-inf"))
    assert_close(lse.cpu(), torch.logsumexp(s, -1).cpu(), torch.float32, terms=1000, depth=3,
                 scale=max(1.0, float(s[s.isfinite()].abs().max())))
