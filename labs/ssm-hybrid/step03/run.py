"""Recurrence vs attention: bytes one request holds as its length grows, measured on tensors and beside the formulas."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from recurrence import Model, Shape, decode_reads, held_bytes, kv_cache_bytes, recurrent_state_bytes
from scan import selective_scan_parallel
from ssm import discretize_mamba, discretize_zoh, selective_scan

LENGTHS = [1, 16, 256, 1024, 4096]


def rows(s: Shape, lengths: list[int]) -> list[list]:
    torch.manual_seed(0)
    attention, recurrence = Model(s, "attention"), Model(s, "recurrence")
    x = torch.randn(1, max(lengths), s.d_model)
    out = []
    for t in lengths:
        out.append([t, held_bytes(attention, x, t), kv_cache_bytes(s, t), held_bytes(recurrence, x, t),
                    recurrent_state_bytes(s),
                    decode_reads(s, "attention", t), decode_reads(s, "recurrence", t)])
    return out


def discretization_rows(deltas: list[float]) -> list[list]:
    """|Bbar| by the exact zero-order hold and by Mamba's delta*B, for A = -1, B = 1."""
    A, B = torch.tensor(-1.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    out = []
    for dt in deltas:
        abar, zoh = discretize_zoh(A, torch.tensor(dt, dtype=torch.float64), B)
        _, euler = discretize_mamba(A, torch.tensor(dt, dtype=torch.float64), B)
        out.append([dt, abar.item(), zoh.item(), euler.item(), (euler - zoh).item() / zoh.item()])
    return out


def selection_demo(T: int = 8, reset_at: int = 4) -> list[list]:
    """Two inputs that differ only before `reset_at`; a huge delta there makes Abar = 0, so the outputs agree after it."""
    g = torch.Generator().manual_seed(0)
    d, N = 4, 8
    A = -torch.arange(1, N + 1, dtype=torch.float32).expand(d, N)
    x1 = torch.randn(1, T, d, generator=g)
    x2 = x1.clone()
    x2[:, :reset_at] = torch.randn(1, reset_at, d, generator=g)
    delta = torch.full((1, T, d), 0.1)
    delta[:, reset_at] = 200.0  # exp(-200) underflows to 0 in float32: the state before is gone
    B, C = torch.randn(1, T, N, generator=g), torch.randn(1, T, N, generator=g)
    y1, _ = selective_scan(x1, delta, A, B, C)
    y2, _ = selective_scan(x2, delta, A, B, C)
    return [[t, delta[0, t, 0].item(), (y1 - y2)[0, t].abs().max().item()] for t in range(T)]


def scan_rows(lengths: list[int], d: int = 16, N: int = 8) -> list[list]:
    """Sequential loop vs parallel scan on the same inputs: steps in sequence, combines done, and the gap."""
    g = torch.Generator().manual_seed(0)
    out = []
    for T in lengths:
        x, B, C = torch.randn(1, T, d, generator=g), torch.randn(1, T, N, generator=g), torch.randn(1, T, N, generator=g)
        delta = torch.rand(1, T, d, generator=g) * 0.2
        A = -torch.arange(1, N + 1, dtype=torch.float32).expand(d, N)
        y_seq, _ = selective_scan(x, delta, A, B, C)
        y_par, _ = selective_scan_parallel(x, delta, A, B, C)
        rounds = (T - 1).bit_length()
        combines = sum(T - 2**r for r in range(rounds))
        out.append([T, T, rounds, T - 1, combines, (y_seq - y_par).abs().max().item()])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--d-model", type=int, choices=[16, 32, 64], default=32)
    ap.add_argument("--layers", type=int, choices=range(1, 5), default=2, metavar="1..4")
    ap.add_argument("--max-length", type=int, choices=range(2, 8193), default=4096, metavar="2..8192")
    args = ap.parse_args(argv)
    s = Shape(d_model=args.d_model, n_layers=args.layers)
    lengths = sorted({t for t in LENGTHS if t <= args.max_length} | {args.max_length})
    print(f"one request, {s.n_layers} layers, d_model {s.d_model}, {s.n_heads} heads, d_state {s.d_state}, fp32:"
          " bytes held once it has seen `length` tokens (prefill length-1, then one decode step)")
    print(tabulate(rows(s, lengths), headers=["length", "KV cache bytes", "formula", "recurrent state bytes",
                                              "formula", "numbers read/step (attn)", "(recurrence)"]))
    print("\n[2] discretizing h' = -h + x over a step delta: Abar = exp(-delta); Bbar exact (zero-order hold) vs delta*B")
    print(tabulate(discretization_rows([0.001, 0.01, 0.1, 1.0]),
                   headers=["delta", "Abar", "Bbar (ZOH)", "Bbar = delta B", "relative gap"], floatfmt=".6g"))
    print("\n[3] selection: two inputs that differ before t=4; delta is huge at t=4 (Abar = 0 there)")
    print(tabulate(selection_demo(), headers=["t", "delta", "max |y1 - y2|"], floatfmt=".3g"))
    print("\n[4] sequential loop vs Hillis-Steele parallel scan (fp32, d=16, N=8)")
    print(tabulate(scan_rows([8, 64, 1024]), headers=["T", "steps (loop)", "rounds (parallel)", "combines (loop)",
                                                      "combines (parallel)", "max |y_seq - y_par|"], floatfmt=".3g"))


if __name__ == "__main__":
    main()
