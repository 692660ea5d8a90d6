"""Training memory calculator: does fine-tuning this model fit on one GPU?

    python calc.py                                   # every known model, one line each
    python calc.py --model llama-3-8b --seq 4096     # one model, item by item

Memory = weights + gradients + optimizer state (bytes per parameter, step 4's table)
       + the activations backward keeps at their peak (steps 5-6's formulas for this
         lab's Llama-style block: no RoPE or q/k-norm activations, a bf16 or fp32 loss).
Not counted: the CUDA context, temporary buffers (the gradient flowing through backward,
mixed precision's transient fp32 gradient copy), allocator fragmentation. Treat the
verdict as a lower bound with a margin of a few GiB.
"""
from __future__ import annotations

import argparse

from tabulate import tabulate

from block import Config, peak_activation_bytes
from configs import MODELS
from optim_state import BYTES_PER_PARAM, OPTIMIZERS

GIB = 2 ** 30


def param_count(model: dict) -> int:
    d, hd = model["hidden_size"], model["head_dim"]
    dq, dkv = model["num_attention_heads"] * hd, model["num_key_value_heads"] * hd
    attention = d * dq + 2 * d * dkv + dq * d  # wq, wk, wv, wo
    if model["family"] == "qwen3":
        attention += 2 * hd  # RMSNorm weights on each query and key head (shared across heads)
    mlp = 3 * d * model["intermediate_size"]  # gate, up, down
    layer = attention + mlp + 2 * d  # plus two RMSNorm weights
    embed = model["vocab_size"] * d
    head = 0 if model["tie_word_embeddings"] else embed  # tied: the head reuses the embedding
    return embed + model["num_hidden_layers"] * layer + d + head  # + the final RMSNorm


def block_config(model: dict, attention: str, checkpoint: bool) -> Config:
    return Config(vocab=model["vocab_size"], dim=model["hidden_size"], n_layers=model["num_hidden_layers"],
                  n_heads=model["num_attention_heads"], n_kv_heads=model["num_key_value_heads"],
                  ffn_dim=model["intermediate_size"], attention=attention, checkpoint=checkpoint,
                  explicit_head_dim=model["head_dim"])


def training_memory(model: dict, batch: int, seq: int, optimizer: str = "mixed-adam",
                    attention: str = "sdpa", checkpoint: bool = False) -> dict[str, int]:
    """Bytes of each part of one training step's memory, and their total."""
    n = param_count(model)
    weights, grads, state = BYTES_PER_PARAM[optimizer]
    itemsize = 2 if optimizer == "mixed-adam" else 4  # activations in the compute dtype
    activations = peak_activation_bytes(block_config(model, attention, checkpoint), batch, seq, itemsize)
    parts = {"weights": weights * n, "grads": grads * n, "optimizer": state * n, "activations": activations}
    return {"params": n, **parts, "total": sum(parts.values())}


def gib(n: int) -> str:
    return f"{n / GIB:,.1f}"


def show_all(args) -> None:
    rows = []
    for name, model in MODELS.items():
        runs = {(att, ck): training_memory(model, args.batch, args.seq, args.optimizer, att, ck)
                for att, ck in (("eager", False), ("sdpa", False), ("sdpa", True))}
        best = runs[("sdpa", True)]
        rows.append([name, f"{best['params'] / 1e9:.2f}", gib(best["weights"] + best["grads"] + best["optimizer"]),
                     *(gib(r["activations"]) for r in runs.values()), gib(best["total"]),
                     "yes" if best["total"] <= args.gpu_memory * GIB else "no"])
    print(f"training memory in GiB  (micro-batch {args.batch} x {args.seq} tokens, {args.optimizer}; "
          f"fits = total with sdpa + checkpointing <= {args.gpu_memory:g} GiB)")
    print(tabulate(rows, headers=["model", "params (B)", "weights+grads+optimizer", "act. eager", "act. sdpa",
                                  "act. sdpa+ckpt", "total", "fits"],
                   colalign=("left",) + ("right",) * 7, disable_numparse=True))


def show_one(args) -> None:
    mem = training_memory(MODELS[args.model], args.batch, args.seq, args.optimizer, args.attention, args.checkpoint)
    per_param = dict(zip(("weights", "grads", "optimizer"), BYTES_PER_PARAM[args.optimizer]))
    rows = [[part, f"{per_param[part]} bytes x {mem['params']:,}", gib(mem[part])] for part in per_param]
    rows.append(["activations", f"peak, {args.attention}, checkpointing {'on' if args.checkpoint else 'off'}",
                 gib(mem["activations"])])
    rows.append(["total", "", gib(mem["total"])])
    print(f"{args.model}: {mem['params'] / 1e9:.2f} B parameters, micro-batch {args.batch} x {args.seq} tokens, "
          f"{args.optimizer}")
    print(tabulate(rows, headers=["part", "how", "GiB"], colalign=("left", "left", "right"), disable_numparse=True))
    fits = mem["total"] <= args.gpu_memory * GIB
    print(f"fits in {args.gpu_memory:g} GiB: {'yes' if fits else 'no'} "
          f"({gib(mem['total'])} GiB needed, {gib(abs(args.gpu_memory * GIB - mem['total']))} GiB "
          f"{'to spare' if fits else 'short'})")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number")
    return value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=list(MODELS), metavar="NAME",
                    help=f"one of: {', '.join(MODELS)} (default: a table of all of them)")
    ap.add_argument("--batch", type=positive_int, default=1, help="micro-batch: sequences per forward/backward")
    ap.add_argument("--seq", type=positive_int, default=4096, help="tokens per sequence")
    ap.add_argument("--optimizer", choices=OPTIMIZERS, default="mixed-adam")
    ap.add_argument("--attention", choices=("eager", "sdpa"), default="sdpa",
                    help="eager keeps the T x T attention probabilities; sdpa (FlashAttention-style) does not")
    ap.add_argument("--checkpoint", action="store_true", help="activation checkpointing on every block")
    ap.add_argument("--gpu-memory", type=positive_float, default=80.0, help="GPU memory in GiB")
    args = ap.parse_args(argv)
    if args.model is None:
        show_all(args)
    else:
        show_one(args)


if __name__ == "__main__":
    main()
