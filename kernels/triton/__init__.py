"""Triton kernels graduated from labs/torch-profiling (import name: dlc_kernels.triton).

    rmsnorm(x, w, eps)            fused RMSNorm: x read once, y written once
    softmax(x)                    row softmax with the online max/sum, any row length
    flash_attention(q, k, v)      causal FlashAttention forward; returns (output, logsumexp)

They run on a CUDA GPU. Without one, set TRITON_INTERPRET=1 before triton is first imported and
they run (slowly) in Triton's interpreter on CPU tensors, which is how the tests check them.
The package attributes rmsnorm, softmax and flash_attention are these functions; the modules
of the same names stay importable as `from dlc_kernels.triton.rmsnorm import rmsnorm`.
"""
from dlc_kernels.triton.flash_attention import flash_attention
from dlc_kernels.triton.rmsnorm import rmsnorm
from dlc_kernels.triton.softmax import softmax

__all__ = ["flash_attention", "rmsnorm", "softmax"]
