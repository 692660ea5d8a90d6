"""Train the step's language model for a few hundred steps on the project's corpus; print losses and a sample."""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from tabulate import tabulate

from dlc_shared.data import get_tokenizer, token_ids
from model import Config, LanguageModel
from train import estimate_loss, train

VOCAB_SIZE = 2048


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number")
    return value


def count_bigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int, alpha: float = 0.1) -> float:
    """Validation cross-entropy of the bigram table built by counting pairs (add-alpha smoothing): the baseline."""
    counts = np.bincount(train_ids[:-1].astype(np.int64) * vocab_size + train_ids[1:],
                         minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size) + alpha
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probs[val_ids[:-1], val_ids[1:]].mean())


def build_model(args) -> LanguageModel:
    return LanguageModel(Config(vocab_size=VOCAB_SIZE, n_embd=args.n_embd))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=positive_int, default=200, help="training steps (AdamW)")
    ap.add_argument("--batch-size", type=positive_int, default=32)
    ap.add_argument("--lr", type=positive_float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=positive_int, default=1,
                    help="CPU threads for torch; these small tensors lose more to thread sync than they gain")
    ap.add_argument("--n-embd", type=positive_int, default=64, help="model width D")
    ap.add_argument("--new-tokens", type=positive_int, default=60, help="tokens to sample after training")
    ap.add_argument("--json", action="store_true",
                    help="also write results/run.json: these numbers with the hardware, versions and command")
    args = ap.parse_args()
    start = time.perf_counter()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_ids, val_ids = token_ids("train", VOCAB_SIZE), token_ids("val", VOCAB_SIZE)
    model = build_model(args)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {model.__class__.__name__} {model.cfg}, {n_params:,} parameters")

    before = estimate_loss(model, val_ids, args.batch_size)
    t0 = time.perf_counter()
    losses = train(model, train_ids, args.steps, args.batch_size, args.lr, seed=args.seed)
    seconds = time.perf_counter() - t0
    after = estimate_loss(model, val_ids, args.batch_size)

    rows = [["uniform guess, ln V", math.log(VOCAB_SIZE)],
            ["val loss before training", before],
            [f"val loss after {args.steps} steps ({seconds:.1f} s)", after],
            ["bigram by counting (train -> val)", bigram := count_bigram_loss(train_ids, val_ids, VOCAB_SIZE)]]
    print(tabulate(rows, headers=["", "cross-entropy (nats)"], floatfmt=".3f"))
    print(f"train loss: first step {losses[0]:.3f}, mean of last 20 steps {np.mean(losses[-20:]):.3f}")

    tok = get_tokenizer(VOCAB_SIZE)
    prompt = torch.tensor([tok.encode("def ").ids])
    out = model.generate(prompt, args.new_tokens, temperature=1.0,
                         generator=torch.Generator().manual_seed(args.seed))
    print("sample:\n" + tok.decode(out[0].tolist()))
    if args.json:
        from dlc_shared.bench import write_result
        record = {"args": vars(args), "ln_v": math.log(VOCAB_SIZE), "val_loss_before": before,
                  "val_loss_after": after, "bigram_count_val_loss": bigram, "train_loss_first": losses[0],
                  "train_loss_last20_mean": float(np.mean(losses[-20:])), "train_seconds": seconds,
                  "run_seconds": time.perf_counter() - start}
        print(f"wrote {write_result('run', record, packages=('torch', 'numpy', 'tokenizers', 'sympy'))}")


if __name__ == "__main__":
    main()
