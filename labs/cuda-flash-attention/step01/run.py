"""Step 1: naive attention in three kernels; its float64 reference, its twin and the score memory it writes."""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from tabulate import tabulate

import reference as ref
from dlc_kernels.cuda import nvcc_skip_reason
from ext import bindings, compile_check, load_kwargs
from naive import attention_naive_twin, naive_hbm_elements, scores_bytes


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def qkv(heads: int, n: int, d: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, n, d)).astype(np.float32) for _ in range(3))


def reference_table(heads: int, n: int, d: int) -> list[list]:
    """The reference and the twin against torch's scaled_dot_product_attention in float64."""
    q, k, v = qkv(heads, n, d)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    sdpa = torch.nn.functional.scaled_dot_product_attention(t(q), t(k), t(v)).numpy()
    o, _ = ref.attention(q, k, v)
    return [["reference (float64)", float(np.abs(o - sdpa).max())],
            ["naive twin (float32)", float(np.abs(attention_naive_twin(q, k, v) - sdpa).max())]]


def memory_table(d: int) -> list[list]:
    """The score buffer against Q, K, V and O for one head, and the elements the three kernels move."""
    return [[n, scores_bytes(1, n) / 2**20, 4 * 4 * n * d / 2**20, naive_hbm_elements(n, d) * 4 / 2**20]
            for n in (1024, 4096, 16384, 65536)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=positive_int, default=2, help="heads of the example inputs")
    ap.add_argument("--n", type=positive_int, default=64, help="sequence length of the example inputs")
    ap.add_argument("--d", type=positive_int, default=32, help="head dimension")
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    print(f"against torch SDPA in float64, (heads, n, d) = ({args.heads}, {args.n}, {args.d}):")
    print(tabulate(reference_table(args.heads, args.n, args.d), headers=["attention", "max |diff|"], floatfmt=".1e"))
    with tempfile.TemporaryDirectory() as tmp:
        built = compile_check(tmp)
    print(f"\nptxas report for {built.arch}:")
    print(tabulate([[k.name, k.registers, k.shared_bytes, k.spill_stores + k.spill_loads] for k in built.kernels],
                   headers=["kernel", "registers", "shared B", "spill B"]))
    print("\ntorch.utils.cpp_extension.load(")
    for key, value in load_kwargs().items():
        print(f"    {key}={value!r},")
    print(f")  -> a module with {', '.join(bindings())}")
    print(f"\none head, d = {args.d}, float32: the score buffer grows as n^2, the inputs and output as n:")
    print(tabulate(memory_table(args.d), headers=["n", "S MiB", "Q+K+V+O MiB", "HBM traffic MiB"], floatfmt=".4g"))
    if torch.cuda.is_available():
        from ext import ops
        q, k, v = (torch.randn(args.heads, args.n, args.d, device="cuda") for _ in range(3))
        expected = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double())
        print(f"\n{torch.cuda.get_device_name(0)}: attention_naive against float64 SDPA: "
              f"{float((ops().attention_naive(q, k, v) - expected).abs().max()):.1e}")
    else:
        print("\nno CUDA GPU here: the module is not built or loaded; the kernels are checked by compile only.")


if __name__ == "__main__":
    main()
