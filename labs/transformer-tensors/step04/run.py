"""Run one forward pass on random token ids and print its shape trace."""
from __future__ import annotations

import argparse

import torch

from attention import SelfAttention
from config import Config
from embedding import Embedding
from shapetrace import ShapeTrace, scope

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float64": torch.float64}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--batch", type=positive_int, default=2, help="B")
    p.add_argument("--seq", type=positive_int, default=8, help="T")
    p.add_argument("--dim", type=positive_int, default=64, help="D")
    p.add_argument("--vocab", type=positive_int, default=512, help="V")
    p.add_argument("--max-seq", type=positive_int, default=32, help="T_max")
    p.add_argument("--pos", choices=["learned", "rope"], default="rope", help="how positions enter")
    p.add_argument("--heads", type=positive_int, default=4, help="H")
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        cfg = Config(vocab_size=args.vocab, dim=args.dim, max_seq_len=args.max_seq, pos=args.pos,
                     n_heads=args.heads)
    except ValueError as e:
        p.error(str(e))
    if args.seq > cfg.max_seq_len:
        p.error(f"--seq {args.seq} is longer than --max-seq {cfg.max_seq_len}")
    return args, cfg


def main(argv=None):
    args, cfg = parse_args(argv)
    torch.manual_seed(args.seed)
    embed = Embedding(cfg).to(DTYPES[args.dtype])
    attn = SelfAttention(cfg).to(DTYPES[args.dtype])
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    with ShapeTrace() as trace, torch.no_grad():
        with scope("embed"):
            x = embed(ids)
        with scope("attn"):
            attn(x)
    print(f"{cfg}\nids: (B, T) = {tuple(ids.shape)}\n")
    print(trace.table())
    B, T, D = args.batch, args.seq, cfg.dim
    if cfg.pos == "learned":
        print(f"\nparameters: V·D + T_max·D + 4·D² = {cfg.vocab_size * D + cfg.max_seq_len * D + 4 * D * D:,}")
    else:
        print(f"\nparameters: V·D + 4·D² = {cfg.vocab_size * D + 4 * D * D:,} (RoPE has none)")
    print(f"FLOPs: 4 projections 4·2·B·T·D² = {8 * B * T * D * D:,}, "
          f"q kᵀ and probs·v 2·2·B·H·T²·d = {4 * B * T * T * D:,} (H·d = D: heads cost no extra FLOPs)")


if __name__ == "__main__":
    main()
