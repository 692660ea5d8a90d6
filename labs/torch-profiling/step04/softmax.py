"""Online softmax: the row's max and its sum of exponentials in one pass, updated block by block.

The safe softmax exp(x - max) / sum(exp(x - max)) reads the row three times: for the max, for the
sum, for the output. The online form keeps a running max m and a running sum l; when a block
raises the max from m to m', the old sum is rescaled by exp(m - m'):

    m' = max(m, max(block))        l' = l * exp(m - m') + sum(exp(block - m'))

so one read gives both, and a second writes the output (Milakov and Gimelshein, 2018).

    python softmax.py                # one row, block by block, and a check against torch.softmax
"""
from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # no GPU: Triton runs its kernels in a NumPy interpreter
import triton  # noqa: E402
import triton.language as tl  # noqa: E402


def online_max_sum(x: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Running (max, sum of exp(x - max)) over the last dim of x, one block of columns at a time."""
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    l = torch.zeros_like(m)
    for start in range(0, x.shape[-1], block):
        b = x[..., start:start + block]
        m_new = torch.maximum(m, b.amax(dim=-1))
        l = l * torch.exp(m - m_new) + torch.exp(b - m_new[..., None]).sum(dim=-1)   # exp(-inf) = 0 at the start
        m = m_new
    return m, l


def online_softmax(x: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Softmax over the last dim from the one-pass statistics: pass 1 finds (m, l), pass 2 writes the output."""
    m, l = online_max_sum(x, block)
    return torch.exp(x - m[..., None]) / l[..., None]


@triton.jit
def _softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)                      # one program per row, any row length
    x_row, y_row = x_ptr + row * n_cols, y_ptr + row * n_cols
    m = tl.full((), float("-inf"), tl.float32)
    l = tl.zeros((), tl.float32)
    for start in range(0, n_cols, BLOCK):       # pass 1: the online max and sum
        cols = start + tl.arange(0, BLOCK)
        b = tl.load(x_row + cols, mask=cols < n_cols, other=float("-inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(b, axis=0))
        l = l * tl.exp(m - m_new) + tl.sum(tl.exp(b - m_new), axis=0)
        m = m_new
    for start in range(0, n_cols, BLOCK):       # pass 2: normalize and write
        cols = start + tl.arange(0, BLOCK)
        b = tl.load(x_row + cols, mask=cols < n_cols, other=float("-inf")).to(tl.float32)
        tl.store(y_row + cols, (tl.exp(b - m) / l).to(y_ptr.dtype.element_ty), mask=cols < n_cols)


def softmax_triton(x: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Softmax over the last dim of x with the Triton kernel (rows need at least one finite value)."""
    x2 = x.reshape(-1, x.shape[-1]).contiguous()
    y = torch.empty_like(x2)
    _softmax_kernel[(x2.shape[0],)](x2, y, x2.shape[1], BLOCK=block)
    return y.view(x.shape)


def passes(n_rows: int, n_cols: int, itemsize: int = 4) -> dict:
    """Bytes moved by the three ways to softmax rows that do not fit in registers."""
    full = n_rows * n_cols * itemsize
    return {"safe (3 reads + 1 write)": 4 * full, "online (2 reads + 1 write)": 3 * full,
            "row in registers (1 read + 1 write)": 2 * full}


def main() -> None:
    from tabulate import tabulate
    x = torch.tensor([[1.0, 3.0, 2.0, 8.0, 0.5, 9.0, -1.0, 4.0]])
    m = torch.tensor(float("-inf"))
    l = torch.tensor(0.0)
    rows = []
    for start in range(0, 8, 2):
        b = x[0, start:start + 2]
        m_new = torch.maximum(m, b.max())
        rescale = torch.exp(m - m_new)
        l = l * rescale + torch.exp(b - m_new).sum()
        m = m_new
        rows.append([b.tolist(), m.item(), rescale.item(), l.item()])
    print("one row in blocks of 2: the running max m, the factor exp(m_old - m) and the running sum l")
    print(tabulate(rows, headers=["block", "m", "rescale", "l"], floatfmt=".6f"))
    print(f"sum(exp(x - max)) in one go: {torch.exp(x - x.max()).sum().item():.6f}")
    xs = torch.randn(4, 300, generator=torch.Generator().manual_seed(0)) * 5
    ref = torch.softmax(xs.double(), dim=-1)
    for name, y in [("online (PyTorch)", online_softmax(xs)), ("Triton kernel", softmax_triton(xs))]:
        print(f"{name:>17}: max |diff| against float64 softmax {(y.double() - ref).abs().max().item():.2e}")
    for name, nbytes in passes(8192, 8192).items():
        print(f"8192 x 8192 float32, {name}: {nbytes / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
