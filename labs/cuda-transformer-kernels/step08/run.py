"""Step 8: the kernels as autograd Functions in Transformer blocks; gradcheck on the CPU twins, kernels on a GPU."""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from tabulate import tabulate

import reference as ref
from dlc_kernels.cuda import nvcc_skip_reason
from ext import bindings, compile_check, load_kwargs
from functions import (LinearFunction, MatmulFunction, MLPBlock, RMSNormFunction, SoftmaxFunction, TransformerBlock,
                       TwinBackend, torch_mlp_block, torch_transformer_block)
from gemv import VERSIONS as GEMV_VERSIONS, gemv_thread_twin, gemv_warp_twin, warp_read_sectors
from matmul import VERSIONS as MATMUL_VERSIONS, flop_per_global_byte, tiled_loads
from rmsnorm import RMS_EPS, rmsnorm_backward_twin, rmsnorm_forward_twin
from softmax import softmax_backward_twin, softmax_twin
from transpose import VERSIONS as TRANSPOSE_VERSIONS, bank_passes, tile_accesses, warp_sectors


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def reference_table(rows: int, cols: int) -> list[list]:
    """Each reference against PyTorch's float64 op (or autograd): the largest difference."""
    rng = np.random.default_rng(0)
    x, w, dy = rng.standard_normal((rows, cols)), rng.standard_normal(cols), rng.standard_normal((rows, cols))
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
    torch.nn.functional.rms_norm(xt, (cols,), wt, eps=ref.RMS_EPS).backward(t(dy))
    dx, dw = ref.rmsnorm_backward(x, w, dy)
    diff = lambda a, b: float(np.abs(a - b.detach().numpy()).max())  # noqa: E731
    return [["transpose", diff(ref.transpose(x), t(x).T)],
            ["gemm", diff(ref.gemm(x, x.T), t(x) @ t(x).T)],
            ["gemv", diff(ref.gemv(x, w), t(x) @ t(w))],
            ["softmax", diff(ref.softmax(x), torch.softmax(t(x), -1))],
            ["rmsnorm", diff(ref.rmsnorm(x, w)[0], torch.nn.functional.rms_norm(t(x), (cols,), t(w), ref.RMS_EPS))],
            ["rmsnorm dx", diff(dx, xt.grad)], ["rmsnorm dw", diff(dw, wt.grad)]]


def gpu_table(rows: int, cols: int) -> list[list]:
    """Each binding on the GPU against PyTorch in float32: the largest difference."""
    from ext import ops
    a, b = torch.randn(rows, cols, device="cuda"), torch.randn(rows, cols, device="cuda")
    rows_ = [["add", float((ops().add(a, b) - (a + b)).abs().max())]]
    rows_ += [[f"transpose {name}", float((ops().transpose(a, v) - a.t()).abs().max())]
              for v, name in enumerate(TRANSPOSE_VERSIONS)]
    w = torch.randn(cols, rows, device="cuda")
    rows_ += [[f"matmul {name}", float((ops().matmul(a, w, v) - (a.double() @ w.double())).abs().max())]
              for v, name in enumerate(MATMUL_VERSIONS)]
    x = torch.randn(cols, device="cuda")
    rows_ += [[f"gemv {name}", float((ops().gemv(a, x, v) - (a.double() @ x.double())).abs().max())]
              for v, name in enumerate(GEMV_VERSIONS)]
    rows_.append(["softmax", float((ops().softmax(a) - torch.softmax(a.double(), -1)).abs().max())])
    s64, ds = a.double().requires_grad_(), torch.randn_like(a)
    torch.softmax(s64, -1).backward(ds.double())
    rows_.append(["softmax dx", float((ops().softmax_backward(ds, ops().softmax(a)) - s64.grad).abs().max())])
    a64, g = a.double().requires_grad_(), torch.randn(cols, device="cuda", dtype=torch.float64).requires_grad_()
    dy = torch.randn_like(a)
    y64 = torch.nn.functional.rms_norm(a64, (cols,), g, eps=RMS_EPS)
    y64.backward(dy.double())
    y, rstd = ops().rmsnorm_forward(a, g.detach().float(), RMS_EPS)
    dx, dw = ops().rmsnorm_backward(dy, a, g.detach().float(), rstd)
    rows_ += [[name, float((mine - theirs.detach()).abs().max())]
              for name, mine, theirs in [("rmsnorm y", y, y64), ("rmsnorm dx", dx, a64.grad), ("rmsnorm dw", dw, g.grad)]]
    rows_ += block_table(rows, cols, "cuda") + transformer_table(rows, cols, "cuda")
    return rows_


def block_table(tokens: int, dim: int, device: str) -> list[list]:
    """The MLP block (hidden = 4 dim) on our Functions against plain PyTorch in float64: output and every gradient."""
    from functions import CudaBackend
    backend = CudaBackend() if device == "cuda" else TwinBackend()
    block = MLPBlock(dim, 4 * dim, backend, device=device, seed=1)
    ref_block = MLPBlock(dim, 4 * dim, None, dtype=torch.float64, device=device, seed=1)
    x = torch.randn(tokens, dim, device=device, generator=torch.Generator(device).manual_seed(0), requires_grad=True)
    dy = torch.randn(tokens, dim, device=device, generator=torch.Generator(device).manual_seed(1))
    x64 = x.detach().double().requires_grad_()
    out, ref_out = block(x), torch_mlp_block(ref_block, x64)
    out.backward(dy)
    ref_out.backward(dy.double())
    names = ["block out", "block dx", "block d norm", "block d w1", "block d w2"]
    mine = [out, x.grad, *[p.grad for p in block.parameters()]]
    theirs = [ref_out, x64.grad, *[p.grad for p in ref_block.parameters()]]
    return [[n, float((a.detach().double() - b.detach()).abs().max())] for n, a, b in zip(names, mine, theirs)]


def transformer_table(tokens: int, dim: int, device: str) -> list[list]:
    """The Transformer block on our Functions against plain PyTorch in float64: the output and the largest gradient error."""
    from functions import CudaBackend
    backend = CudaBackend() if device == "cuda" else TwinBackend()
    block = TransformerBlock(dim, 4 * dim, backend, device=device, seed=1)
    ref_block = TransformerBlock(dim, 4 * dim, None, dtype=torch.float64, device=device, seed=1)
    x = torch.randn(tokens, dim, device=device, generator=torch.Generator(device).manual_seed(0), requires_grad=True)
    dy = torch.randn(tokens, dim, device=device, generator=torch.Generator(device).manual_seed(1))
    x64 = x.detach().double().requires_grad_()
    out, ref_out = block(x), torch_transformer_block(ref_block, x64)
    out.backward(dy)
    ref_out.backward(dy.double())
    diff = lambda a, b: float((a.detach().double() - b.detach()).abs().max())  # noqa: E731
    grads = [diff(p.grad, q.grad) for p, q in zip(block.parameters(), ref_block.parameters())]
    return [["transformer out", diff(out, ref_out)], ["transformer dx", diff(x.grad, x64.grad)],
            ["transformer d params (max of 9)", max(grads)]]


def gradcheck_table() -> list[list]:
    """torch.autograd.gradcheck of each Function on the float64 twins (finite differences against backward)."""
    twin = TwinBackend()
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)  # noqa: E731
    check = lambda fn, *args: torch.autograd.gradcheck(fn, args, atol=1e-8, rtol=1e-6, raise_exception=False)  # noqa: E731
    return [["LinearFunction, 1 token (GEMV)", check(lambda x, w: LinearFunction.apply(x, w, twin), r(1, 5), r(4, 5))],
            ["LinearFunction, 3 tokens (GEMM)", check(lambda x, w: LinearFunction.apply(x, w, twin), r(3, 5), r(4, 5))],
            ["RMSNormFunction", check(lambda x, w: RMSNormFunction.apply(x, w, RMS_EPS, twin), r(3, 7), r(7))],
            ["MatmulFunction", check(lambda a, b: MatmulFunction.apply(a, b, twin), r(3, 5), r(5, 4))],
            ["SoftmaxFunction", check(lambda x: SoftmaxFunction.apply(x, twin), r(4, 6))]]


def twin_tables(rows: int, cols: int) -> None:
    """What the CPU twins count: global sectors per warp access, shared-memory passes per tile access."""
    print(f"\nglobal sectors (32 B) of one warp access, transposing ({rows}, {cols}):")
    print(tabulate([[name, *warp_sectors(rows, cols, v).values()] for v, name in enumerate(TRANSPOSE_VERSIONS[:2])],
                   headers=["kernel", "read", "write"]))
    print("\nshared-memory passes per warp access of the tile (1 = conflict-free):")
    print(tabulate([[f"pad={pad}", access, bank_passes(words)]
                    for pad in (0, 1) for access, words in tile_accesses(pad).items()],
                   headers=["tile", "access", "passes"]))
    g = 4096
    loads = {"naive": 2 * g**3, "tiled T=32": tiled_loads(g, g, g)}
    print(f"\nGEMM {g}^3: global loads per C element, and FLOP per global byte (caches ignored):")
    print(tabulate([[name, n / g**2, flop_per_global_byte(g, g, g, n)] for name, n in loads.items()],
                   headers=["kernel", "loads / C element", "FLOP / byte"], floatfmt=".4g"))
    print(f"\nGEMV: sectors of one warp's read of W (K = {cols}), and float32 error against float64:")
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((rows, cols)).astype(np.float32), rng.standard_normal(cols).astype(np.float32)
    twins = [gemv_thread_twin, gemv_warp_twin]
    print(tabulate([[name, warp_read_sectors(cols, v), float(np.abs(twins[v](W, x) - ref.gemv(W, x)).max())]
                    for v, name in enumerate(GEMV_VERSIONS)],
                   headers=["kernel", "sectors", "max |twin - float64|"], floatfmt=".1e"))
    print("\nsoftmax twin in float32 on rows scaled up: without the max the exponentials overflow:")
    table = []
    for scale in (1, 30, 100):
        x = (rng.standard_normal((rows, cols)) * scale).astype(np.float32)
        naive, stable = softmax_twin(x, subtract_max=False), softmax_twin(x)
        table.append([scale, float(np.abs(x).max()), int(np.isnan(naive).sum()),
                      float(np.abs(stable - ref.softmax(x)).max())])
    print(tabulate(table, headers=["x scale", "max |x|", "NaN without max", "max |stable - float64|"],
                   floatfmt=".3g"))
    x, w, dy = (rng.standard_normal((rows, cols)).astype(np.float32), (1 + 0.5 * rng.standard_normal(cols)).astype(np.float32),
                rng.standard_normal((rows, cols)).astype(np.float32))
    y, rstd = rmsnorm_forward_twin(x, w)
    dx, dw = rmsnorm_backward_twin(dy, x, w, rstd)
    dx_ref, dw_ref = ref.rmsnorm_backward(x, w, dy, RMS_EPS)
    print("\nRMSNorm twins in float32 against the float64 formulas:")
    print(tabulate([["y", float(np.abs(y - ref.rmsnorm(x, w, RMS_EPS)[0]).max())],
                    ["dx", float(np.abs(dx - dx_ref).max())], ["dw", float(np.abs(dw - dw_ref).max())],
                    ["max |dx . x| / |dx||x| (eps makes it nonzero)",
                     float(max(abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(dx_ref, x)))]],
                   headers=["output", "max |diff|"], floatfmt=".1e"))
    x, dy = (rng.standard_normal((rows, cols)) * 4).astype(np.float32), rng.standard_normal((rows, cols)).astype(np.float32)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.softmax(xt, -1).backward(torch.tensor(dy, dtype=torch.float64))
    dx = softmax_backward_twin(dy, softmax_twin(x))
    print("\nsoftmax backward twin, dx = y * (dy - sum(dy * y)), in float32 against float64 autograd:")
    print(tabulate([["dx", float(np.abs(dx - xt.grad.numpy()).max())],
                    ["max |row sum of dx| (0 exactly)", float(np.abs(dx.astype(np.float64).sum(axis=1)).max())]],
                   headers=["output", "max |diff|"], floatfmt=".1e"))
    print("\ntorch.autograd.gradcheck on the float64 twin backend:")
    print(tabulate(gradcheck_table(), headers=["Function", "passed"]))
    print(f"\nMLP block x + W2 silu(W1 RMSNorm(x)), ({rows} tokens, dim 32, hidden 128), float32 twins against PyTorch float64:")
    print(tabulate(block_table(rows, 32, "cpu"), headers=["tensor", "max |diff|"], floatfmt=".1e"))
    print(f"\nTransformer block (attention, then MLP), ({rows} tokens, dim 32, hidden 128), float32 twins against "
          "PyTorch float64 (F.scaled_dot_product_attention):")
    print(tabulate(transformer_table(rows, 32, "cpu"), headers=["tensor", "max |diff|"], floatfmt=".1e"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=positive_int, default=8, help="rows of the example inputs")
    ap.add_argument("--cols", type=positive_int, default=256, help="row length of the example inputs")
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    print(f"float64 references against torch float64, inputs ({args.rows}, {args.cols}):")
    print(tabulate(reference_table(args.rows, args.cols), headers=["reference", "max |diff|"], floatfmt=".1e"))
    with tempfile.TemporaryDirectory() as tmp:
        built = compile_check(tmp)
    print(f"\nptxas report for {built.arch}:")
    print(tabulate([[k.name, k.registers, k.shared_bytes, k.spill_stores + k.spill_loads] for k in built.kernels],
                   headers=["kernel", "registers", "shared B", "spill B"]))
    print("\ntorch.utils.cpp_extension.load(")
    for key, value in load_kwargs().items():
        print(f"    {key}={value!r},")
    print(f")  -> a module with {', '.join(bindings())}")
    twin_tables(args.rows, args.cols)
    if torch.cuda.is_available():
        print(f"\n{torch.cuda.get_device_name(0)}: kernels against torch (float32; matmul against float64)")
        print(tabulate(gpu_table(args.rows, args.cols), headers=["kernel", "max |diff|"], floatfmt=".1e"))
    else:
        print("\nno CUDA GPU here: the module is not built or loaded; the kernels are checked by compile only.")


if __name__ == "__main__":
    main()
