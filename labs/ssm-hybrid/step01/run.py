"""Recurrence vs attention: bytes one request holds as its length grows, measured on tensors and beside the formulas."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from recurrence import Model, Shape, decode_reads, held_bytes, kv_cache_bytes, recurrent_state_bytes

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


if __name__ == "__main__":
    main()
