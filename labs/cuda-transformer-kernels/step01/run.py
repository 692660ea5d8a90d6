"""Step 1: float64 references, and ops.cu compiled by nvcc and (on a GPU) loaded into PyTorch."""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from tabulate import tabulate

import reference as ref
from dlc_kernels.cuda import nvcc_skip_reason
from ext import bindings, compile_check, load_kwargs


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
    return [["add", float((ops().add(a, b) - (a + b)).abs().max())]]


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
    if torch.cuda.is_available():
        print(f"\n{torch.cuda.get_device_name(0)}: kernels against torch float32")
        print(tabulate(gpu_table(args.rows, args.cols), headers=["kernel", "max |diff|"], floatfmt=".1e"))
    else:
        print("\nno CUDA GPU here: the module is not built or loaded; the kernels are checked by compile only.")


if __name__ == "__main__":
    main()
