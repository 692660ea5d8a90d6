"""The autograd Functions on the CPU twin backend: gradcheck in float64, and the blocks against plain PyTorch."""
import numpy as np
import pytest
import torch

from dlc_shared.testing import assert_close
from functions import (AttentionBlock, LinearFunction, attention, MatmulFunction, MLPBlock, RMSNormFunction, SoftmaxFunction,
                       TransformerBlock, TwinBackend, torch_mlp_block, torch_transformer_block)
from rmsnorm import RMS_EPS

TWIN = TwinBackend()
# tighter than gradcheck's defaults (rtol 1e-3): central differences with step 1e-6 in float64 are
# good to ~1e-9 on these smooth functions, and a 0.1% error in a backward must fail
TIGHT = {"atol": 1e-8, "rtol": 1e-6}


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()


@pytest.mark.parametrize("tokens", [1, 3])  # 1 token goes through the GEMV, 3 through the GEMM
def test_linear_gradcheck(tokens):
    x, w = rand(tokens, 5, seed=1), rand(4, 5, seed=2)
    assert torch.autograd.gradcheck(lambda x, w: LinearFunction.apply(x, w, TWIN), (x, w), **TIGHT)


def test_rmsnorm_gradcheck():
    x, w = rand(3, 7, seed=3), rand(7, seed=4)
    assert torch.autograd.gradcheck(lambda x, w: RMSNormFunction.apply(x, w, RMS_EPS, TWIN), (x, w), **TIGHT)


def test_block_gradcheck():
    block = MLPBlock(6, 8, TWIN, dtype=torch.float64)
    x = rand(3, 6, seed=5)
    assert torch.autograd.gradcheck(lambda x, n, w1, w2: _block_with(block, x, n, w1, w2),
                                    (x, *[p.detach().clone().requires_grad_() for p in block.parameters()]), **TIGHT)


def _block_with(block, x, norm, w1, w2):
    """The block's forward with its parameters passed in, so gradcheck perturbs them too."""
    h = RMSNormFunction.apply(x, norm, RMS_EPS, block.backend)
    h = torch.nn.functional.silu(LinearFunction.apply(h, w1, block.backend))
    return x + LinearFunction.apply(h, w2, block.backend)


def test_one_token_takes_the_gemv():
    calls = []

    class Spy(TwinBackend):
        def gemv(self, w, x):
            calls.append("gemv")
            return super().gemv(w, x)

        def matmul(self, a, b):
            calls.append("matmul")
            return super().matmul(a, b)

    LinearFunction.apply(rand(1, 5), rand(4, 5), Spy()).sum().backward()
    assert calls == ["gemv", "matmul", "matmul"]  # forward GEMV; backward dx and dW are GEMMs


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_block_matches_plain_pytorch(dtype):
    dim, hidden, tokens = 16, 48, 5
    block = MLPBlock(dim, hidden, TWIN, dtype=dtype, seed=1)
    x = torch.randn(tokens, dim, generator=torch.Generator().manual_seed(2), dtype=dtype, requires_grad=True)
    dy = torch.randn(tokens, dim, generator=torch.Generator().manual_seed(3), dtype=dtype)
    out = block(x)
    out.backward(dy)
    ours = [out.detach(), x.grad, *[p.grad for p in block.parameters()]]
    # the reference: plain PyTorch in float64 on float64 copies of the same weights and inputs
    ref_block = MLPBlock(dim, hidden, None, dtype=torch.float64, seed=1)
    with torch.no_grad():
        for p, q in zip(ref_block.parameters(), block.parameters()):
            p.copy_(q.double())
    x64 = x.detach().double().requires_grad_()
    ref_out = torch_mlp_block(ref_block, x64)
    ref_out.backward(dy.double())
    refs = [ref_out.detach(), x64.grad, *[p.grad for p in ref_block.parameters()]]
    assert len(set(np.round(out.detach().numpy().ravel(), 4))) > tokens  # varied outputs, not a constant
    for name, mine, theirs in zip(["out", "dx", "d norm", "d w1", "d w2"], ours, refs):
        assert mine.dtype == dtype, name
        # chains of matmuls over at most `hidden` terms; norm, SiLU and residual add a few roundings each
        assert_close(mine, theirs, dtype, terms=hidden, depth=8)


def test_matmul_gradcheck():
    a, b = rand(3, 5, seed=6), rand(5, 4, seed=7)
    assert torch.autograd.gradcheck(lambda a, b: MatmulFunction.apply(a, b, TWIN), (a, b), **TIGHT)


def test_softmax_gradcheck():
    x = (rand(4, 6, seed=8) * 3).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: SoftmaxFunction.apply(x, TWIN), (x,), **TIGHT)


def test_softmax_backward_saves_only_the_output():
    saved = []
    x = rand(3, 5, seed=9)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = SoftmaxFunction.apply(x, TWIN)
    assert len(saved) == 1 and torch.equal(saved[0], y)


def test_attention_gradcheck():
    block = AttentionBlock(3, TWIN, dtype=torch.float64, seed=2)
    params = [p.detach().clone().requires_grad_() for p in block.parameters()]
    # fast_mode: one random projection of the Jacobian per input instead of all of it (these 48 numbers cost
    # 96 forwards the slow way); a wrong backward still moves that projection
    assert torch.autograd.gradcheck(lambda x, *ps: attention(x, *ps, TWIN), (rand(3, 3, seed=10), *params),
                                    fast_mode=True, **TIGHT)


@pytest.mark.parametrize("tokens", [1, 5])  # 1 token: the GEMV path everywhere, a 1 x 1 softmax
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_transformer_block_matches_plain_pytorch(dtype, tokens):
    dim, hidden = 16, 48
    block = TransformerBlock(dim, hidden, TWIN, dtype=dtype, seed=1)
    x = torch.randn(tokens, dim, generator=torch.Generator().manual_seed(2), dtype=dtype, requires_grad=True)
    dy = torch.randn(tokens, dim, generator=torch.Generator().manual_seed(3), dtype=dtype)
    out = block(x)
    out.backward(dy)
    ref_block = TransformerBlock(dim, hidden, None, dtype=torch.float64, seed=1)
    with torch.no_grad():
        for p, q in zip(ref_block.parameters(), block.parameters()):
            p.copy_(q.double())
    x64 = x.detach().double().requires_grad_()
    ref_out = torch_transformer_block(ref_block, x64)
    ref_out.backward(dy.double())
    assert len(set(np.round(out.detach().numpy().ravel(), 4))) > tokens  # varied outputs, not a constant
    ours = [out.detach(), x.grad, *[p.grad for p in block.parameters()]]
    refs = [ref_out.detach(), x64.grad, *[p.grad for p in ref_block.parameters()]]
    assert len(ours) == 2 + 5 + 3
    for mine, theirs in zip(ours, refs):
        # two sublayers of chained reductions over at most `hidden` terms; each adds a few roundings
        assert_close(mine, theirs, dtype, terms=hidden, depth=16)
