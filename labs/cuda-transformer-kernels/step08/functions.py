"""The kernels as torch.autograd.Functions, and a Transformer block (attention + MLP) built from them.

A Function says how to compute its output (forward) and, given the gradient of the loss with
respect to that output, the gradients with respect to its inputs (backward); autograd chains
them with every other PyTorch op. The arithmetic goes through a backend: CudaBackend calls the
extension's kernels (float32, on a GPU), TwinBackend runs the same algorithms as NumPy twins on
the CPU in the tensors' dtype, so in float64 torch.autograd.gradcheck can check every backward.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gemv import gemv_warp_twin
from matmul import matmul_tiled_twin
from rmsnorm import RMS_EPS, rmsnorm_backward_twin, rmsnorm_forward_twin
from softmax import softmax_backward_twin, softmax_twin
from transpose import transpose_tiled_twin


class TwinBackend:
    """The NumPy twins on CPU tensors, in the tensors' own dtype."""

    @staticmethod
    def _np(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().contiguous().numpy()

    def transpose(self, a):
        return torch.from_numpy(transpose_tiled_twin(self._np(a), pad=1)[0])

    def matmul(self, a, b):
        return torch.from_numpy(matmul_tiled_twin(self._np(a), self._np(b))[0])

    def gemv(self, w, x):
        return torch.from_numpy(gemv_warp_twin(self._np(w), self._np(x)))

    def rmsnorm_forward(self, x, w, eps):
        return tuple(map(torch.from_numpy, rmsnorm_forward_twin(self._np(x), self._np(w), eps)))

    def rmsnorm_backward(self, dy, x, w, rstd):
        return tuple(map(torch.from_numpy, rmsnorm_backward_twin(*map(self._np, (dy, x, w, rstd)))))

    def softmax(self, x):
        return torch.from_numpy(softmax_twin(self._np(x)))

    def softmax_backward(self, dy, y):
        return torch.from_numpy(softmax_backward_twin(self._np(dy), self._np(y)))


class CudaBackend:
    """The extension's kernels on contiguous float32 CUDA tensors: the padded transpose, the tiled GEMM, the warp GEMV."""

    def __init__(self):
        from ext import ops
        self.ops = ops()

    def transpose(self, a):
        return self.ops.transpose(a.contiguous(), 2)

    def matmul(self, a, b):
        return self.ops.matmul(a.contiguous(), b.contiguous(), 1)

    def gemv(self, w, x):
        return self.ops.gemv(w.contiguous(), x.contiguous(), 1)

    def rmsnorm_forward(self, x, w, eps):
        return self.ops.rmsnorm_forward(x.contiguous(), w.contiguous(), eps)

    def rmsnorm_backward(self, dy, x, w, rstd):
        return self.ops.rmsnorm_backward(dy.contiguous(), x.contiguous(), w.contiguous(), rstd)

    def softmax(self, x):
        return self.ops.softmax(x.contiguous())

    def softmax_backward(self, dy, y):
        return self.ops.softmax_backward(dy.contiguous(), y)


class LinearFunction(torch.autograd.Function):
    """y = x @ W^T for x (T, in), W (out, in). One token (T = 1) is a GEMV; more tokens a GEMM on W^T.

    backward: dx = dy @ W (T, in), dW = dy^T @ x (out, in): two GEMMs and a transpose.
    """

    @staticmethod
    def forward(ctx, x, weight, backend):
        ctx.save_for_backward(x, weight)
        ctx.backend = backend
        if x.shape[0] == 1:
            return backend.gemv(weight, x[0])[None]
        return backend.matmul(x, backend.transpose(weight))

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        b = ctx.backend
        return b.matmul(dy, weight), b.matmul(b.transpose(dy), x), None


class MatmulFunction(torch.autograd.Function):
    """y = a @ b for a (M, K), b (K, N): attention's scores q k^T and its output P v.

    backward: da = dy @ b^T, db = a^T @ dy: two transposes and two GEMMs.
    """

    @staticmethod
    def forward(ctx, a, b, backend):
        ctx.save_for_backward(a, b)
        ctx.backend = backend
        return backend.matmul(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        k = ctx.backend
        return k.matmul(dy, k.transpose(b)), k.matmul(k.transpose(a), dy), None


class SoftmaxFunction(torch.autograd.Function):
    """Row-wise softmax of attention scores; forward saves only its output y, backward is step 7's kernel."""

    @staticmethod
    def forward(ctx, x, backend):
        y = backend.softmax(x)
        ctx.save_for_backward(y)
        ctx.backend = backend
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return ctx.backend.softmax_backward(dy, y), None


class RMSNormFunction(torch.autograd.Function):
    """y = RMSNorm(x) * w; forward saves rstd per row, backward is the two kernels of step 7."""

    @staticmethod
    def forward(ctx, x, weight, eps, backend):
        y, rstd = backend.rmsnorm_forward(x, weight, eps)
        ctx.save_for_backward(x, weight, rstd)
        ctx.backend = backend
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, rstd = ctx.saved_tensors
        dx, dw = ctx.backend.rmsnorm_backward(dy, x, weight, rstd)
        return dx, dw, None, None


class MLPBlock(nn.Module):
    """out = x + W2 silu(W1 RMSNorm(x)): a Transformer's pre-norm MLP sublayer on (T, dim) tokens.

    RMSNorm and the two Linear layers are our Functions; SiLU and the residual add are plain
    PyTorch ops, and autograd chains all of them.
    """

    def __init__(self, dim: int, hidden: int, backend, *, dtype=torch.float32, device="cpu", seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.norm = nn.Parameter((1 + 0.1 * torch.randn(dim, generator=g, dtype=torch.float64)).to(device, dtype))
        self.w1 = nn.Parameter((torch.randn(hidden, dim, generator=g, dtype=torch.float64) / dim**0.5).to(device, dtype))
        self.w2 = nn.Parameter((torch.randn(dim, hidden, generator=g, dtype=torch.float64) / hidden**0.5).to(device, dtype))
        self.backend = backend

    def forward(self, x):
        h = RMSNormFunction.apply(x, self.norm, RMS_EPS, self.backend)
        h = torch.nn.functional.silu(LinearFunction.apply(h, self.w1, self.backend))
        return x + LinearFunction.apply(h, self.w2, self.backend)


def torch_mlp_block(block: MLPBlock, x: torch.Tensor) -> torch.Tensor:
    """The same block in plain PyTorch ops (F.rms_norm, F.linear, F.silu): the reference."""
    F = torch.nn.functional
    h = F.rms_norm(x, (x.shape[-1],), block.norm, eps=RMS_EPS)
    return x + F.linear(F.silu(F.linear(h, block.w1)), block.w2)


class AttentionBlock(nn.Module):
    """out = x + Wo softmax(causal(q k^T / sqrt(dim))) v, with q, k, v = h Wq^T, h Wk^T, h Wv^T and h = RMSNorm(x).

    A Transformer's pre-norm attention sublayer with one head on (T, dim) tokens. The scaling and the
    causal mask (-inf above the diagonal, so exp gives 0 there) are plain PyTorch ops.
    """

    def __init__(self, dim: int, backend, *, dtype=torch.float32, device="cpu", seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.norm = nn.Parameter((1 + 0.1 * torch.randn(dim, generator=g, dtype=torch.float64)).to(device, dtype))
        self.wq, self.wk, self.wv, self.wo = (
            nn.Parameter((torch.randn(dim, dim, generator=g, dtype=torch.float64) / dim**0.5).to(device, dtype))
            for _ in range(4))
        self.backend = backend

    def forward(self, x):
        return attention(x, self.norm, self.wq, self.wk, self.wv, self.wo, self.backend)


def attention(x, norm, wq, wk, wv, wo, b):
    """AttentionBlock's forward with its parameters as arguments (gradcheck perturbs them too)."""
    h = RMSNormFunction.apply(x, norm, RMS_EPS, b)
    q, k, v = (LinearFunction.apply(h, w, b) for w in (wq, wk, wv))
    scores = LinearFunction.apply(q, k, b) / x.shape[-1] ** 0.5  # q k^T: k plays the weight's role
    future = torch.ones(x.shape[0], x.shape[0], dtype=torch.bool, device=x.device).triu(1)
    p = SoftmaxFunction.apply(scores.masked_fill(future, float("-inf")), b)
    return x + LinearFunction.apply(MatmulFunction.apply(p, v, b), wo, b)


class TransformerBlock(nn.Module):
    """The attention sublayer, then the MLP sublayer: every kernel of this path in one block."""

    def __init__(self, dim: int, hidden: int, backend, *, dtype=torch.float32, device="cpu", seed: int = 0):
        super().__init__()
        self.attn = AttentionBlock(dim, backend, dtype=dtype, device=device, seed=seed)
        self.mlp = MLPBlock(dim, hidden, backend, dtype=dtype, device=device, seed=seed + 1)

    def forward(self, x):
        return self.mlp(self.attn(x))


def torch_transformer_block(block: TransformerBlock, x: torch.Tensor) -> torch.Tensor:
    """The same block in plain PyTorch ops, attention by F.scaled_dot_product_attention: the reference."""
    F, a = torch.nn.functional, block.attn
    h = F.rms_norm(x, (x.shape[-1],), a.norm, eps=RMS_EPS)
    q, k, v = (F.linear(h, w)[None] for w in (a.wq, a.wk, a.wv))
    x = x + F.linear(F.scaled_dot_product_attention(q, k, v, is_causal=True)[0], a.wo)
    return torch_mlp_block(block.mlp, x)
