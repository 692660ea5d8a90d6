"""Compile time apart from run time, what triggers a recompile, and XLA's cost analysis on the roofline."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import write_result
from tabulate import tabulate

from compiling import TraceCounter, compile_and_run, explain_cache_misses
from costs import (H100_BF16_FLOPS, H100_BYTES_PER_S, cost, dot_flops, forward_matmul_flops, matmul_bytes,
                   matmul_flops, roofline_seconds, train_matmul_flops)
from model import Config, forward_jit, rms_norm
from timing import time_calls, time_steps
from train import init_state, make_optimizer, make_train_step, random_batch


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=positive, default=8)
    ap.add_argument("--seq", type=positive, default=64)
    ap.add_argument("--vocab", type=positive, default=512, help="a small vocabulary keeps compile time down")
    ap.add_argument("--n", type=positive, default=10, help="timed calls per measurement")
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    if args.seq > Config().max_seq_len:
        ap.error(f"--seq must be <= {Config().max_seq_len}")
    if args.vocab < 2:
        ap.error("--vocab must be >= 2")
    return args


def recompilations(params, x, cfg: Config) -> list[dict]:
    """Call one jitted function with arguments that do and do not change its cache key; time each call."""
    w = params["final_norm"]
    counter = TraceCounter(lambda h, s, eps: rms_norm(h * s, w, eps))
    f = jax.jit(counter, static_argnums=2)
    h = forward_jit(params, x, cfg)[..., :cfg.d_model]  # any float32 activations
    calls = [("h f32[B,T,D], s=1.0 (Python float), eps=1e-5", lambda: f(h, 1.0, 1e-5)),
             ("same, s=2.0", lambda: f(h, 2.0, 1e-5)),
             ("s=jnp.float32(2.0) (an array, not weak)", lambda: f(h, jnp.float32(2.0), 1e-5)),
             ("h with half the rows (new shape)", lambda: f(h[: max(1, h.shape[0] // 2)], 1.0, 1e-5)),
             ("h in bfloat16 (new dtype)", lambda: f(h.astype(jnp.bfloat16), 1.0, 1e-5)),
             ("eps=1e-6 (new static value)", lambda: f(h, 1.0, 1e-6)),
             ("the first call again", lambda: f(h, 1.0, 1e-5))]
    events = []
    for name, call in calls:
        before = counter.traces
        with explain_cache_misses() as why:
            t0 = time.perf_counter()
            jax.block_until_ready(call())
            dt = time.perf_counter() - t0
        reason = next((line.strip() for m in why for line in m.splitlines() if line.strip().startswith("*")), "")
        reason = reason.split("https://")[0].split(", so the")[0][:80]
        traced = counter.traces > before or bool(why)
        events.append({"call": name, "traced": traced, "ms": dt * 1e3, "why": reason or ("-" if not traced else "first call")})
    return events


def program_costs(fc, sc, params, x, cfg: Config, n: int) -> list[dict]:
    """XLA's cost analysis of a matmul, two small kernels, the forward and the train step, beside hand counts."""
    b, t = x.shape
    h = jax.random.normal(jax.random.key(2), (b * t, cfg.d_model))
    w = jax.random.normal(jax.random.key(3), (cfg.d_model, cfg.d_model))
    small = {"matmul (B*T, D) @ (D, D)": (jax.jit(lambda a, c: a @ c), (h, w), matmul_flops(b * t, cfg.d_model, cfg.d_model)),
             "rms_norm (B*T, D)": (jax.jit(lambda a: rms_norm(a, w[0], cfg.norm_eps)), (h,), 0),
             "softmax (B*T, D)": (jax.jit(lambda a: jax.nn.softmax(a, axis=-1)), (h,), 0)}
    rows = []
    for name, (fn, args, hand) in small.items():
        r = compile_and_run(fn, args, n)
        rows.append((name, fn.lower(*args).as_text(), r, hand))
    rows.append(("forward", forward_jit.lower(params, x, cfg=cfg).as_text(), fc, forward_matmul_flops(cfg, b, t)))
    rows.append(("train step", None, sc, train_matmul_flops(cfg, b, t)))
    out = []
    for name, text, r, hand in rows:
        c = cost(r["compiled"])
        n_dots, hlo_flops = dot_flops(text) if text else (None, None)
        bound = roofline_seconds(c["flops"], c["bytes"], H100_BF16_FLOPS, H100_BYTES_PER_S)
        out.append({"program": name, "xla_flops": c["flops"], "xla_bytes": c["bytes"], "intensity": c["intensity"],
                    "hand_matmul_flops": hand, "hlo_dots": n_dots, "hlo_dot_flops": hlo_flops,
                    "compile_seconds": r["compile_seconds"], "run_ms_median": statistics.median(r["run_seconds"]) * 1e3,
                    "h100_bound_us": bound * 1e6,
                    "h100_limit": "memory" if c["intensity"] < H100_BF16_FLOPS / H100_BYTES_PER_S else "compute"})
    return out


def main() -> None:
    args = parse_args()
    cfg = Config(vocab_size=args.vocab)
    optimizer = make_optimizer()
    params, opt_state = init_state(jax.random.key(0), cfg, optimizer)
    x, y = random_batch(jax.random.key(1), cfg, args.batch, args.seq)
    step = make_train_step(optimizer, cfg)

    # Trace+lower and compile timed apart from the calls: every number below is one or the other.
    fc = compile_and_run(forward_jit, (params, x), args.n, cfg=cfg)
    sc = compile_and_run(step, (params, opt_state, x, y), 1)
    compile_s = {"forward": [fc["lower_seconds"], fc["compile_seconds"]],
                 "train_step": [sc["lower_seconds"], sc["compile_seconds"]]}
    fwd = {False: time_calls(fc["compiled"], (params, x), args.n, block=False), True: fc["run_seconds"]}
    step = sc["compiled"]  # the compiled program itself: calling it can never trace or compile again
    steps = time_steps(step, (params, opt_state), (x, y), args.n)
    ms = lambda s: statistics.median(s) * 1e3
    rows = [["forward", *(f"{v * 1e3:.0f}" for v in compile_s["forward"]), f"{ms(fwd[False]):.3f}", f"{ms(fwd[True]):.3f}"],
            ["train step", *(f"{v * 1e3:.0f}" for v in compile_s["train_step"]),
             f"{steps['dispatch_loop_seconds'] / args.n * 1e3:.3f}",
             f"{ms(steps['blocked_step_seconds']):.3f}"]]
    print(f"batch {args.batch} x seq {args.seq}, {args.n} calls each; medians (train step: loop mean without waiting)")
    print(tabulate(rows, headers=["program", "trace+lower ms", "compile ms", "no wait ms", "block_until_ready ms"]))
    loop = steps["dispatch_loop_seconds"] + steps["drain_seconds"]
    print(f"{args.n} train steps without waiting: loop {steps['dispatch_loop_seconds'] * 1e3:.1f} ms, "
          f"then waiting for the last result {steps['drain_seconds'] * 1e3:.1f} ms (sum {loop * 1e3:.1f} ms); "
          f"{args.n} awaited steps {sum(steps['blocked_step_seconds']) * 1e3:.1f} ms")
    events = recompilations(params, x, cfg)
    print("\nwhat triggers a new trace and compile (one jitted function, calls in this order):")
    print(tabulate([[e["call"], "yes" if e["traced"] else "no", f"{e['ms']:.1f}", e["why"]] for e in events],
                   headers=["call", "traced+compiled", "call ms (awaited)", "JAX's explanation (first line that differs)"]))
    costs = program_costs(fc, sc, params, x, cfg, args.n)
    costs[-1]["run_ms_median"] = ms(steps["blocked_step_seconds"])  # the train step's awaited steps above
    print(f"\nXLA cost analysis beside hand-counted matmul FLOPs; H100 ridge {H100_BF16_FLOPS / H100_BYTES_PER_S:.0f} FLOP/byte")
    print(tabulate([[c["program"], f"{c['xla_flops']:,.0f}", f"{c['hand_matmul_flops']:,}",
                     "-" if c["hlo_dots"] is None else f"{c['hlo_dots']} / {c['hlo_dot_flops']:,}",
                     f"{c['xla_bytes']:,.0f}", f"{c['intensity']:.2f}", c["h100_limit"], f"{c['compile_seconds'] * 1e3:.0f}",
                     f"{c['run_ms_median']:.3f}"] for c in costs],
                   headers=["program", "XLA flops", "hand matmul flops", "HLO dots / their flops", "XLA bytes",
                            "FLOP/byte", "H100 limit", "compile ms", "run ms"]))
    if args.json:
        data = {"args": vars(args), "config": cfg.__dict__, "lower_compile_seconds": compile_s, "recompilations": events,
                "costs": costs,
                "forward_no_wait_seconds": fwd[False], "forward_blocked_seconds": fwd[True],
                "forward_no_wait_ms_median": ms(fwd[False]), "forward_blocked_ms_median": ms(fwd[True]),
                "step_dispatch_loop_seconds": steps["dispatch_loop_seconds"], "step_drain_seconds": steps["drain_seconds"],
                "step_blocked_seconds": steps["blocked_step_seconds"],
                "step_no_wait_ms_mean": steps["dispatch_loop_seconds"] / args.n * 1e3,
                "step_blocked_ms_median": ms(steps["blocked_step_seconds"]),
                "step_blocked_total_ms": sum(steps["blocked_step_seconds"]) * 1e3,
                "step_loop_plus_drain_ms": loop * 1e3}
        path = write_result("run", data, packages=("jax", "jaxlib", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
