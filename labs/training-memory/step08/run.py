"""Run a small MLP forward and backward: count their matmul FLOPs, measure the activations backward keeps
and the gradients and optimizer state a training step adds; then the same for a transformer block,
and what activation checkpointing and gradient accumulation save and cost; finally, the
memory calculator checked on a tiny model and applied to real ones."""
from __future__ import annotations

import argparse
import time

import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from accumulate import accumulate_grads
from block import (Config, all_params, block_activation_bytes, init_params, lm_loss, model_activation_bytes,
                   peak_activation_bytes)
import calc
from memory import SavedTensorMeter, unique_bytes
from mlp import (activation_bytes, backward_flops, forward_flops, init_mlp, layer_flops, mlp_backward, mlp_forward,
                 mse_loss_grad)
from optim_state import OPTIMIZERS, formula_bytes, make_optimizer, measured_bytes


def parse_sizes(text: str) -> list[int]:
    """'512,1024,10' -> [512, 1024, 10]: the widths of input, hidden layers and output."""
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"'{text}' needs at least two positive widths")
    return sizes


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def show_forward(batch: int, sizes: list[int]) -> None:
    params = init_mlp(sizes)
    x = torch.randn(batch, sizes[0], generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        mlp_forward(x, params)
    counted = counter.get_total_flops()
    rows = [[i + 1, f"({batch} x {n_in}) @ ({n_in} x {n_out})", f"({batch}, {n_out})", f]
            for i, (n_in, n_out, f) in enumerate(zip(sizes[:-1], sizes[1:], layer_flops(batch, sizes)))]
    rows.append(["sum", "", "", forward_flops(batch, sizes)])
    print(f"\n[1] MLP forward = a chain of matmuls, FLOPs = sum 2*B*in*out  (B={batch}, sizes={sizes})")
    print(tabulate(rows, headers=["layer", "matmul", "output", "FLOPs (formula)"], intfmt=","))
    start = time.perf_counter()
    with torch.no_grad():
        mlp_forward(x, params)
    seconds = time.perf_counter() - start
    print(f"FlopCounterMode counted {counted:,} FLOPs (formula {forward_flops(batch, sizes):,}); "
          f"one forward took {seconds * 1e3:.2f} ms = {counted / seconds / 1e9:.3g} GFLOP/s on this CPU")


def show_backward(batch: int, sizes: list[int]) -> None:
    params = init_mlp(sizes, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, sizes[0], generator=gen, dtype=torch.float64)
    target = torch.randn(batch, sizes[-1], generator=gen, dtype=torch.float64)
    cache = []
    loss, grad_out = mse_loss_grad(mlp_forward(x, params, cache), target)
    with FlopCounterMode(display=False) as autograd_count:
        loss.backward()
    with torch.no_grad(), FlopCounterMode(display=False) as hand_count:
        grads = mlp_backward(grad_out, params, cache)
    rows = []
    for i, ((w, b), (dw, db)) in enumerate(zip(params, grads)):
        err = max((dw - w.grad).abs().max().item(), (db - b.grad).abs().max().item())
        rows.append([i + 1, tuple(dw.shape), f"{w.grad.abs().max().item():.3g}", f"{err:.1e}"])
    print(f"\n[2] hand-written backward vs autograd, float64  (B={batch}, sizes={sizes})")
    print(tabulate(rows, headers=["layer", "dW shape", "max |dW|", "max |hand - autograd|"]))
    fwd, bwd = forward_flops(batch, sizes), backward_flops(batch, sizes)
    print(tabulate([["forward", f"{fwd:,}", "-", "-"],
                    ["backward", f"{bwd:,}", f"{autograd_count.get_total_flops():,}",
                     f"{hand_count.get_total_flops():,}"]],
                   headers=["", "FLOPs (formula)", "counted: autograd", "counted: hand"],
                   colalign=("left", "right", "right", "right")))
    print(f"backward / forward = {bwd / fwd:.3f}: 2x (dW and dh per layer) minus layer 1's dh, "
          f"which nobody needs ({layer_flops(batch, sizes)[0]:,} FLOPs)")


def show_activations(batch: int, sizes: list[int]) -> None:
    params = init_mlp(sizes)
    flat_params = [p for wb in params for p in wb]
    rows = []
    for b in sorted({1, 16, batch}):
        x = torch.randn(b, sizes[0], generator=torch.Generator().manual_seed(1))
        with SavedTensorMeter(flat_params) as meter:
            mlp_forward(x, params)
        formula = activation_bytes(b, sizes)
        cache = []
        with torch.no_grad():
            mlp_forward(x, params, cache)
        hand = unique_bytes(t for pair in cache for t in pair)
        rows.append([b, f"{meter.bytes:,}", f"{formula:,}", f"{(meter.bytes - formula) / formula:+.1%}",
                     f"{hand:,}", f"{unique_bytes(flat_params):,}"])
    print(f"\n[3] activation memory: what autograd saves for backward, float32  (sizes={sizes})")
    print(f"formula = 4 bytes * B * (sum of every layer's input width); tolerance: exact (0 bytes)")
    print(tabulate(rows, headers=["batch", "saved (hooks)", "formula", "diff", "hand cache (input+z)",
                                  "parameters"], colalign=("right",) * 6))


def show_training_state(batch: int, sizes: list[int]) -> None:
    rows = []
    for name in OPTIMIZERS:
        dtype = torch.bfloat16 if name == "mixed-adam" else torch.float32
        params = init_mlp(sizes, dtype=dtype)
        flat_params = [p for wb in params for p in wb]
        opt = make_optimizer(name, flat_params)
        gen = torch.Generator().manual_seed(1)
        x, target = torch.randn(batch, sizes[0], generator=gen), torch.randn(batch, sizes[-1], generator=gen)
        with SavedTensorMeter(flat_params) as meter:
            loss, _ = mse_loss_grad(mlp_forward(x.to(dtype), params), target.to(dtype))
        loss.backward()
        opt.step()
        n = sum(p.numel() for p in flat_params)
        measured, formula = measured_bytes(flat_params, opt), formula_bytes(n, name)
        total, total_formula = sum(measured.values()), sum(formula.values())
        rows.append([name, str(dtype).removeprefix("torch."), f"{measured['weights']:,}", f"{measured['grads']:,}",
                     f"{measured['optimizer']:,}", f"{total / n:.4f}", f"{total_formula / n:.0f}",
                     f"{(total - total_formula) / total_formula:+.3%}", f"{meter.bytes:,}"])
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    print(f"\n[4] gradients and optimizer state after one step  ({n:,} parameters, B={batch})")
    print("formula bytes/param: sgd 4+4, momentum 4+4+4, adam 4+4+8, mixed-adam 2+2+(4 master+8); "
          "tolerance 0.1% (Adam's one 4-byte step counter per tensor)")
    print(tabulate(rows, headers=["optimizer", "compute dtype", "weights", "grads", "optimizer state",
                                  "bytes/param", "formula", "diff", "activations + loss (hooks)"],
                   colalign=("left", "left") + ("right",) * 7, disable_numparse=True))


def show_transformer(batch: int, seq: int, layers: int) -> None:
    rows = []
    for attention in ("eager", "sdpa"):
        cfg = Config(n_layers=layers, attention=attention)
        params = init_params(cfg)
        for t in sorted({seq // 4, seq // 2, seq}):
            idx, targets = torch.randint(0, cfg.vocab, (2, batch, t), generator=torch.Generator().manual_seed(1))
            with SavedTensorMeter(all_params(params)) as meter:
                lm_loss(idx, targets, params, cfg)
            formula = model_activation_bytes(cfg, batch, t, 4)
            per_block = block_activation_bytes(cfg, batch, t, 4)
            rows.append([attention, t, f"{meter.bytes:,}", f"{formula:,}", f"{(meter.bytes - formula) / formula:+.2%}",
                         f"{per_block:,}", f"{per_block / (batch * t * cfg.dim * 4):.1f}"])
    cfg = Config(n_layers=layers)
    print(f"\n[5] transformer activations, float32: formula vs saved-tensor hooks  (B={batch}, D={cfg.dim}, "
          f"H={cfg.n_heads}, KV heads={cfg.n_kv_heads}, F={cfg.ffn_dim}, V={cfg.vocab}, layers={layers})")
    print("per block, eager: 4 bytes * [B*T*(6D + 2 + 4Dq + 4F) + B*H*T*T probabilities] + T*T mask bytes")
    print("per block, sdpa:  4 bytes * B*T*(6D + 2 + 2Dq + 2Dkv + 4F + H log-sum-exps); tolerance: exact (0 bytes)")
    print(tabulate(rows, headers=["attention", "seq T", "saved (hooks)", "formula", "diff", "per block",
                                  "per block / (B*T*D*4)"], colalign=("left",) + ("right",) * 6))


def show_checkpointing(batch: int, seq: int, layers: int) -> None:
    gen = torch.Generator().manual_seed(1)
    idx, targets = (torch.randint(0, 512, (batch, seq), generator=gen) for _ in range(2))
    rows = []
    for n_layers in (layers, 2 * layers):
        flops = {}
        for checkpoint in (False, True):
            cfg = Config(n_layers=n_layers, checkpoint=checkpoint)
            params = init_params(cfg)
            start = time.perf_counter()
            with SavedTensorMeter(all_params(params)) as meter, FlopCounterMode(display=False) as counter:
                loss = lm_loss(idx, targets, params, cfg)
                end_of_forward = meter.live
                loss.backward()
            seconds = time.perf_counter() - start  # one step, hooks and counting included
            flops[checkpoint] = counter.get_total_flops()
            rows.append([n_layers, "on" if checkpoint else "off", f"{end_of_forward:,}",
                         f"{model_activation_bytes(cfg, batch, seq, 4):,}", f"{meter.peak:,}",
                         f"{peak_activation_bytes(cfg, batch, seq, 4):,}", f"{flops[checkpoint]:,}",
                         f"{flops[checkpoint] / flops[False]:.3f}", f"{seconds * 1e3:.0f}"])
    print(f"\n[6] activation checkpointing, eager attention, float32  (B={batch}, T={seq}; measured with hooks "
          "through forward and backward; tolerance: exact)")
    print(tabulate(rows, headers=["layers", "checkpoint", "after forward", "formula", "peak", "peak formula",
                                  "FLOPs fwd+bwd (counted)", "x of no-ckpt", "ms / step"],
                   colalign=("right", "left") + ("right",) * 7))


def show_accumulation(batch: int, seq: int, layers: int) -> None:
    cfg = Config(n_layers=layers)
    params = init_params(cfg)
    gen = torch.Generator().manual_seed(1)
    idx, targets = (torch.randint(0, 512, (batch, seq), generator=gen) for _ in range(2))
    rows, big_grads = [], None
    for micro_batch in sorted({batch, max(batch // 2, 1), 1}, reverse=True):
        for p in all_params(params):
            p.grad = None
        start = time.perf_counter()
        with SavedTensorMeter(all_params(params)) as meter, FlopCounterMode(display=False) as counter:
            accumulate_grads(idx, targets, params, cfg, micro_batch)
        seconds = time.perf_counter() - start
        grads = [p.grad.clone() for p in all_params(params)]
        big_grads = big_grads or grads  # the first row is the whole batch in one piece
        err = max(((g - r).abs().max() / r.abs().max()).item() for g, r in zip(grads, big_grads))
        formula = peak_activation_bytes(cfg, micro_batch, seq, 4)
        rows.append([micro_batch, batch // micro_batch, f"{meter.peak:,}", f"{formula:,}",
                     f"{(meter.peak - formula) / formula:+.2%}", f"{err:.1e}", f"{counter.get_total_flops():,}",
                     f"{seconds * 1e3:.0f}"])
    print(f"\n[7] gradient accumulation, eager attention, float32  (B={batch}, T={seq}, layers={layers}; "
          "peak measured with hooks; tolerance: exact)")
    print(tabulate(rows, headers=["micro-batch", "steps", "peak activations", "formula", "diff",
                                  "max grad diff vs B (rel)", "FLOPs (counted)", "ms"], colalign=("right",) * 8))


def show_calculator(batch: int, seq: int) -> None:
    model = dict(family="llama", hidden_size=128, intermediate_size=344, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=32, vocab_size=512, tie_word_embeddings=False)
    rows = []
    for attention, checkpoint in (("eager", False), ("sdpa", True)):
        cfg = calc.block_config(model, attention, checkpoint)
        params = init_params(cfg, dtype=torch.bfloat16)
        flat_params = all_params(params)
        opt = make_optimizer("mixed-adam", flat_params)
        gen = torch.Generator().manual_seed(1)
        idx, targets = (torch.randint(0, 512, (batch, seq), generator=gen) for _ in range(2))
        with SavedTensorMeter(flat_params) as meter:
            lm_loss(idx, targets, params, cfg).backward()
        opt.step()
        measured = {**measured_bytes(flat_params, opt), "activations": meter.peak}
        predicted = calc.training_memory(model, batch, seq, "mixed-adam", attention, checkpoint)
        measured["total"] = sum(measured.values())
        for part in ("weights", "grads", "optimizer", "activations", "total"):
            rows.append([f"{attention}{' + ckpt' if checkpoint else ''}", part, f"{measured[part]:,}",
                         f"{predicted[part]:,}", f"{(measured[part] - predicted[part]) / predicted[part]:+.3%}"])
    print(f"\n[8] the memory calculator vs one measured mixed-precision Adam step of a tiny Llama-shaped model "
          f"({calc.param_count(model):,} parameters, B={batch}, T={seq}); tolerance 0.1% (Adam's step counters)")
    print(tabulate(rows, headers=["attention", "part", "measured", "calculator", "diff"],
                   colalign=("left", "left", "right", "right", "right")))
    print()
    calc.main([])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=positive_int, default=256, help="rows in the input batch")
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("784,1024,1024,10"),
                    help="layer widths: input,hidden...,output")
    ap.add_argument("--lm-batch", type=positive_int, default=4, help="sequences per batch for the transformer")
    ap.add_argument("--seq", type=positive_int, default=128, help="sequence length for the transformer")
    ap.add_argument("--layers", type=positive_int, default=2, help="transformer blocks")
    args = ap.parse_args()
    torch.manual_seed(0)
    show_forward(args.batch, args.sizes)
    show_backward(args.batch, args.sizes)
    show_activations(args.batch, args.sizes)
    show_training_state(args.batch, args.sizes)
    show_transformer(args.lm_batch, args.seq, args.layers)
    show_checkpointing(args.lm_batch, args.seq, args.layers)
    show_accumulation(args.lm_batch, args.seq, args.layers)
    show_calculator(args.lm_batch, args.seq)


if __name__ == "__main__":
    main()
