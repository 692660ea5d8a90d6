"""Step 6: the RMSNorm forward kernel; twins on the CPU against float64, kernels on a GPU."""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from tabulate import tabulate

import reference as ref
from dlc_kernels.cuda import nvcc_skip_reason
from ext import bindings, compile_check, load_kwargs
from gemv import VERSIONS as GEMV_VERSIONS, gemv_thread_twin, gemv_warp_twin, warp_read_sectors
from matmul import VERSIONS as MATMUL_VERSIONS, flop_per_global_byte, tiled_loads
from rmsnorm import RMS_EPS, rmsnorm_forward_twin
from softmax import softmax_twin
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
    g = torch.randn(cols, device="cuda")
    y, _ = ops().rmsnorm_forward(a, g, RMS_EPS)
    y64 = torch.nn.functional.rms_norm(a.double(), (cols,), g.double(), eps=RMS_EPS)
    rows_.append(["rmsnorm y", float((y - y64).abs().max())])
    return rows_


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
    x, w = rng.standard_normal((rows, cols)).astype(np.float32), (1 + 0.5 * rng.standard_normal(cols)).astype(np.float32)
    y, rstd = rmsnorm_forward_twin(x, w)
    y_ref, rstd_ref = ref.rmsnorm(x, w, RMS_EPS)
    print("\nRMSNorm forward twin in float32 against the float64 formula:")
    print(tabulate([["y", float(np.abs(y - y_ref).max())], ["rstd", float(np.abs(rstd - rstd_ref).max())]],
                   headers=["output", "max |diff|"], floatfmt=".1e"))


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
