"""Train with evaluation, checkpoints and --precision, printing tokens/s and MFU; then sample."""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from tabulate import tabulate

from data import load_split, unigram_cross_entropy
from dlc_shared.data import CORPUS_PACKAGE, corpus_files, corpus_text, get_tokenizer
from flops import flops_per_token, matmul_params, measure_peak_flops
from model import ModelConfig
from sample import sample
from train import AMP_DTYPES, TrainConfig, train


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
    ap.add_argument("--eval-interval", type=positive_int, default=d.eval_interval)
    ap.add_argument("--ckpt", default="checkpoints/ckpt.pt", help="checkpoint file ('' for none)")
    ap.add_argument("--save-interval", type=positive_int, default=d.save_interval)
    ap.add_argument("--resume", action="store_true", help="continue from --ckpt if it exists")
    ap.add_argument("--stop-at", type=positive_int, help="stop after this step, as if the job were killed")
    ap.add_argument("--prompt", default="def ", help="text the sample starts from")
    ap.add_argument("--sample-tokens", type=int, default=120)
    ap.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    ap.add_argument("--top-k", type=positive_int, default=50)
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default=d.precision,
                    help="bf16: autocast; fp16: autocast + GradScaler")
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--peak-tflops", type=float,
                    help="hardware peak for MFU (e.g. 989 for H100 bf16); default: measure a matmul here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0 < args.lr < 10:
        ap.error(f"--lr must be in (0, 10), got {args.lr}")
    if not 0 <= args.warmup_steps <= args.steps:
        ap.error(f"--warmup-steps must be in 0..--steps ({args.steps}), got {args.warmup_steps}")
    if not 0 <= args.weight_decay < 1 or not args.grad_clip > 0:
        ap.error("--weight-decay must be in [0, 1) and --grad-clip positive")
    if args.stop_at is not None and args.stop_at > args.steps:
        ap.error(f"--stop-at must be at most --steps ({args.steps}), got {args.stop_at}")
    if args.temperature < 0 or args.sample_tokens < 0 or not args.prompt:
        ap.error("--temperature and --sample-tokens must be >= 0 and --prompt non-empty")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    if args.peak_tflops is not None and not args.peak_tflops > 0:
        ap.error(f"--peak-tflops must be positive, got {args.peak_tflops}")
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
                      vocab_size=args.vocab_size, lr=args.lr, min_lr=args.lr / 10,
                      warmup_steps=args.warmup_steps, weight_decay=args.weight_decay,
                      grad_clip=args.grad_clip, seed=args.seed, eval_interval=args.eval_interval,
                      ckpt_path=args.ckpt or None, save_interval=args.save_interval, resume=args.resume,
                      precision=args.precision, device=args.device)
    model_cfg = ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size)
    if args.peak_tflops:
        cfg.peak_flops, source = args.peak_tflops * 1e12, "given"
    else:
        dtype = AMP_DTYPES[cfg.precision] or torch.float32
        cfg.peak_flops = measure_peak_flops(cfg.device, dtype)
        source = f"measured: one 1024^3 {str(dtype).removeprefix('torch.')} matmul on {cfg.device}"
    per_token = flops_per_token(model_cfg, cfg.block_size)
    print(f"FLOPs per token: 6 x {matmul_params(model_cfg):,} + 12 x L x T x d = {per_token:,}; "
          f"peak {cfg.peak_flops / 1e12:.3f} TFLOP/s ({source})")

    unigram = show_data(cfg)
    print(f"\ntraining {cfg.steps} steps x {cfg.batch_size} x {cfg.block_size} tokens "
          f"(AdamW, lr {cfg.lr:g} -> {cfg.min_lr:g}, warmup {cfg.warmup_steps}, clip {cfg.grad_clip:g}, "
          f"{cfg.precision} on {cfg.device})")
    t0 = time.perf_counter()
    model, history = train(cfg, model_cfg, stop_at=args.stop_at)
    clipped = sum(n > cfg.grad_clip for n in history["grad_norm"])
    print(f"\ngradient norm above {cfg.grad_clip:g} (clipped) in {clipped} "
          f"of {len(history['grad_norm'])} steps")
    print(f"val loss {history['val_loss']:.4f} vs unigram {unigram:.4f} "
          f"({time.perf_counter() - t0:.1f} s of training)")
    if len(history["step_s"]) > 1:
        first, rest = history["step_s"][0], statistics.median(history["step_s"][1:])
        print(f"first step {first:.2f} s (warm-up), then {rest * 1e3:.1f} ms per step (median); "
              f"the first step costs {first / rest:.0f} later steps")

    tok = get_tokenizer(cfg.vocab_size)
    prompt = torch.tensor([tok.encode(args.prompt).ids], device=cfg.device)
    out = sample(model, prompt, args.sample_tokens, args.temperature, args.top_k,
                 generator=torch.Generator(cfg.device).manual_seed(args.seed))
    print(f"\nsample (temperature {args.temperature:g}, top-k {args.top_k}):\n{tok.decode(out[0].tolist())}")


if __name__ == "__main__":
    main()
