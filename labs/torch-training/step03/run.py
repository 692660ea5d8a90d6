"""The corpus and batches; training with AdamW, warmup + cosine and clipping; then sample text."""
from __future__ import annotations

import argparse
import math
import time

import torch
from tabulate import tabulate

from data import load_split, unigram_cross_entropy
from dlc_shared.data import CORPUS_PACKAGE, corpus_files, corpus_text, get_tokenizer
from sample import sample
from train import TrainConfig, train


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def vocab_size(text: str) -> int:
    if not text.isdigit() or not 257 <= int(text) <= 65536:
        raise argparse.ArgumentTypeError(f"vocab size must be an integer in 257..65536, got '{text}'")
    return int(text)


def show_data(cfg: TrainConfig) -> float:
    text = corpus_text()
    tok = get_tokenizer(cfg.vocab_size)
    train_data, val_data = load_split("train", cfg.vocab_size), load_split("val", cfg.vocab_size)
    n_tokens = len(train_data) + len(val_data)
    n_bytes = len(text.encode("utf-8"))
    rows = [[f"files ({CORPUS_PACKAGE} *.py, sorted)", len(corpus_files())], ["characters", len(text)],
            ["UTF-8 bytes", n_bytes], ["vocabulary", tok.get_vocab_size()], ["tokens", n_tokens],
            ["train tokens (first 90%)", len(train_data)], ["val tokens (last 10%)", len(val_data)]]
    rows = [[name, f"{value:,}"] for name, value in rows] + [["bytes per token", f"{n_bytes / n_tokens:.2f}"]]
    # disable_numparse: tabulate would turn "3,925,196" back into a float and print 3.9252e+06.
    print(tabulate(rows, headers=["corpus", ""], colalign=("left", "right"), disable_numparse=True))
    example = "def forward(self, x):\n    return x"
    enc = tok.encode(example)
    print(f"\n{example!r} -> {len(enc.ids)} tokens\n  ids:    {enc.ids}\n  pieces: {enc.tokens}")
    print("  (Ġ marks a leading space, Ċ a newline: byte-level BPE shows bytes as printable characters)")
    unigram = unigram_cross_entropy(train_data, val_data, cfg.vocab_size)
    print(f"\nbaselines on val: uniform ln V = {math.log(cfg.vocab_size):.4f}, "
          f"unigram (train frequencies) = {unigram:.4f} nats/token")
    return unigram


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    d = TrainConfig()
    ap.add_argument("--steps", type=positive_int, default=d.steps)
    ap.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    ap.add_argument("--block-size", type=positive_int, default=d.block_size, help="tokens per window")
    ap.add_argument("--vocab-size", type=vocab_size, default=d.vocab_size,
                    help="BPE vocabulary; a new size trains and caches a new tokenizer (seconds)")
    ap.add_argument("--lr", type=float, default=d.lr, help="peak AdamW learning rate")
    ap.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    ap.add_argument("--weight-decay", type=float, default=d.weight_decay)
    ap.add_argument("--grad-clip", type=float, default=d.grad_clip, help="max global gradient norm")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: torch's choice)")
    ap.add_argument("--prompt", default="def ", help="text the sample starts from")
    ap.add_argument("--sample-tokens", type=int, default=120)
    ap.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    ap.add_argument("--top-k", type=positive_int, default=50)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0 < args.lr < 10:
        ap.error(f"--lr must be in (0, 10), got {args.lr}")
    if not 0 <= args.warmup_steps <= args.steps:
        ap.error(f"--warmup-steps must be in 0..--steps ({args.steps}), got {args.warmup_steps}")
    if not 0 <= args.weight_decay < 1 or not args.grad_clip > 0:
        ap.error("--weight-decay must be in [0, 1) and --grad-clip positive")
    if args.temperature < 0 or args.sample_tokens < 0 or not args.prompt:
        ap.error("--temperature and --sample-tokens must be >= 0 and --prompt non-empty")
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
                      vocab_size=args.vocab_size, lr=args.lr, min_lr=args.lr / 10,
                      warmup_steps=args.warmup_steps, weight_decay=args.weight_decay,
                      grad_clip=args.grad_clip, seed=args.seed)

    unigram = show_data(cfg)
    print(f"\ntraining {cfg.steps} steps x {cfg.batch_size} x {cfg.block_size} tokens "
          f"(AdamW, lr {cfg.lr:g} -> {cfg.min_lr:g}, warmup {cfg.warmup_steps}, clip {cfg.grad_clip:g})")
    t0 = time.perf_counter()
    model, history = train(cfg)
    clipped = sum(n > cfg.grad_clip for n in history["grad_norm"])
    print(f"\ngradient norm above {cfg.grad_clip:g} (clipped) in {clipped} "
          f"of {len(history['grad_norm'])} steps")
    print(f"val loss {history['val_loss']:.4f} vs unigram {unigram:.4f} "
          f"({time.perf_counter() - t0:.1f} s of training)")

    tok = get_tokenizer(cfg.vocab_size)
    prompt = torch.tensor([tok.encode(args.prompt).ids])
    out = sample(model, prompt, args.sample_tokens, args.temperature, args.top_k,
                 generator=torch.Generator().manual_seed(args.seed))
    print(f"\nsample (temperature {args.temperature:g}, top-k {args.top_k}):\n{tok.decode(out[0].tolist())}")


if __name__ == "__main__":
    main()
