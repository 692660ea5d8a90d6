"""The Triton kernels against PyTorch, run by Triton's interpreter on a CPU (TRITON_INTERPRET=1, see conftest).

64-wide blocks keep the interpreter fast and make every row span several chunks and a ragged tail."""
import pytest
import torch
from dlc_shared.testing import assert_close, gpu

from backends import rms_norm_reference, silu_and_mul_reference
from triton_kernels import rms_norm_triton, silu_and_mul_triton


@pytest.mark.parametrize("rows,dim", [(3, 64), (4, 200)])
def test_triton_rms_norm_with_and_without_residual(rows, dim):
    g = torch.Generator().manual_seed(dim)
    x, res, w = torch.randn(rows, dim, generator=g), torch.randn(rows, dim, generator=g), torch.randn(dim, generator=g)
    # Another summation order for the mean of squares (chunks of 64): rounding only, `dim` terms.
    assert_close(rms_norm_triton(x, w, 1e-6, block=64), rms_norm_reference(x, w, 1e-6), torch.float32,
                 terms=dim, depth=3)
    out, new_res = rms_norm_triton(x, w, 1e-6, res, block=64)
    ref_out, ref_res = rms_norm_reference(x, w, 1e-6, res)
    assert torch.equal(new_res, ref_res)  # the same one float32 add
    assert_close(out, ref_out, torch.float32, terms=dim, depth=3)
    assert not torch.equal(res, new_res)  # the caller's residual is left as it was


def test_triton_rms_norm_keeps_leading_dims():
    x, w = torch.randn(2, 3, 64), torch.randn(64)  # like q_norm over [tokens, heads, head_dim]
    assert_close(rms_norm_triton(x, w, 1e-6, block=64), rms_norm_reference(x, w, 1e-6), torch.float32, terms=64,
                 depth=3)


def test_triton_silu_and_mul_with_a_ragged_tail():
    g = torch.Generator().manual_seed(1)
    gate, up = 3 * torch.randn(5, 29, generator=g), torch.randn(5, 29, generator=g)  # 145 = 2 blocks of 64 + 17
    # exp and a division computed another way: rounding only, no reduction
    assert_close(silu_and_mul_triton(gate, up, block=64), silu_and_mul_reference(gate, up), torch.float32, depth=3)


@gpu
def test_triton_backends_give_transformers_tokens_on_a_gpu(model_dir, hf_greedy):
    from engine import LLMEngine
    from sequence import SamplingParams
    from tiny_model import random_prompts
    prompts = random_prompts(4, 2, 20, 512, seed=16)
    expected = [hf_greedy(p, 10) for p in prompts]
    engine = LLMEngine(model_dir, max_num_seqs=4, device="cuda", kernels="rmsnorm=triton,activation=triton")
    assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=10))] == expected
