"""Run one forward pass on random token ids and print its shape trace."""
from __future__ import annotations

import argparse

import torch

from config import Config
from model import TinyLM
from shapetrace import ShapeTrace

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
    p.add_argument("--kv-heads", type=positive_int, default=2, help="H_kv (= H: MHA, 1: MQA)")
    p.add_argument("--ffn", choices=["gelu", "swiglu"], default="swiglu")
    p.add_argument("--ffn-hidden", type=positive_int, default=None, help="default: 4D (gelu), ~8D/3 (swiglu)")
    p.add_argument("--layers", type=positive_int, default=2, help="L")
    p.add_argument("--tie", action="store_true", help="LM head shares the token table")
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        cfg = Config(vocab_size=args.vocab, dim=args.dim, max_seq_len=args.max_seq, pos=args.pos,
                     n_heads=args.heads, n_kv_heads=args.kv_heads, ffn=args.ffn, ffn_hidden=args.ffn_hidden,
                     n_layers=args.layers, tie_embeddings=args.tie)
    except ValueError as e:
        p.error(str(e))
    if args.seq > cfg.max_seq_len:
        p.error(f"--seq {args.seq} is longer than --max-seq {cfg.max_seq_len}")
    return args, cfg


def main(argv=None):
    args, cfg = parse_args(argv)
    torch.manual_seed(args.seed)
    model = TinyLM(cfg).to(DTYPES[args.dtype])
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    with ShapeTrace() as trace, torch.no_grad():
        model(ids)
    print(f"{cfg}\nids: (B, T) = {tuple(ids.shape)}\n")
    print(trace.table())
    B, T, D = args.batch, args.seq, cfg.dim
    kv = cfg.kv_heads * cfg.head_dim  # width of k and of v
    attn_params = 2 * D * D + 2 * D * kv
    F = cfg.ffn_hidden_size
    ffn_params = 3 * D * F if cfg.ffn == "swiglu" else 2 * D * F
    L, V = cfg.n_layers, cfg.vocab_size
    total = V * D + L * (attn_params + ffn_params + 2 * D) + D + (0 if cfg.tie_embeddings else V * D)
    if cfg.pos == "learned":
        total += cfg.max_seq_len * D
    print(f"\nparameters: V·D{' + T_max·D' if cfg.pos == 'learned' else ''} + L·(attention + FFN + 2 norms) "
          f"+ final norm{'' if cfg.tie_embeddings else ' + LM head V·D'} = {total:,}")
    print(f"FLOPs: 4 projections 2·B·T·(2·D² + 2·D·H_kv·d) = {2 * B * T * attn_params:,}, "
          f"q kᵀ and probs·v 2·2·B·H·T²·d = {4 * B * T * T * D:,} (H·d = D: heads cost no extra FLOPs)")
    size = torch.finfo(DTYPES[args.dtype]).bits // 8
    print(f"KV cache per token per layer: 2·H_kv·d·{size} B = {2 * kv * size} B "
          f"(MHA with H = {cfg.n_heads}: {2 * D * size} B, {cfg.n_heads // cfg.kv_heads}x more)")
    print(f"FFN ({cfg.ffn}, hidden {F}): {'3' if cfg.ffn == 'swiglu' else '2'}·D·hidden = {ffn_params:,} parameters "
          f"(8·D² = {8 * D * D:,}), {2 * B * T * ffn_params:,} FLOPs = 2·B·T·params; "
          f"attention projections: {attn_params:,}")
    print(f"LM head: 2·B·T·D·V = {2 * B * T * D * V:,} FLOPs, {V * D:,} parameters"
          f"{' shared with the token table' if cfg.tie_embeddings else ''}")


if __name__ == "__main__":
    main()
