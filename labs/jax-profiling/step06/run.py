"""Pallas kernels (RMSNorm, softmax, matmul) against XLA, compile and run timed apart (with --earlier: steps 01-05 too)."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import write_result
from tabulate import tabulate

import numpy as np
from dlc_shared.testing import tolerance

import pallas_kernels
from compiling import TraceCounter, compile_and_run, explain_cache_misses
from memory import memory, tree_bytes
from costs import (H100_BF16_FLOPS, H100_BYTES_PER_S, cost, dot_flops, forward_matmul_flops, matmul_bytes,
                   matmul_flops, roofline_seconds, train_matmul_flops)
from model import Config, forward_jit, rms_norm
from timing import time_calls, time_steps
from tracing import capture, summarize
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
    ap.add_argument("--trace-steps", type=positive, default=3, help="train steps recorded by the profiler")
    ap.add_argument("--earlier", action="store_true", help="also rerun the measurements of steps 01-05")
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


VARIANTS = {"plain": (False, False), "donate_argnums=(0, 1)": (True, False), "remat (jax.checkpoint per block)": (False, True)}


def memory_table(optimizer, cfg: Config, state, batch, n: int) -> list[dict]:
    """Compile the train step three ways; read each one's memory analysis and time n awaited steps."""
    out = []
    for name, (donate, remat) in VARIANTS.items():
        r = {"variant": name}
        t0 = time.perf_counter()
        compiled = make_train_step(optimizer, cfg, donate=donate, remat=remat).lower(*state, *batch).compile()
        r["compile_seconds"] = time.perf_counter() - t0
        r.update(memory(compiled))
        fresh = jax.tree_util.tree_map(jnp.copy, state)  # a donating step deletes the arrays it is given
        r["step_seconds"] = time_steps(compiled, fresh, batch, n)["blocked_step_seconds"]
        r["step_ms_median"] = statistics.median(r["step_seconds"]) * 1e3
        out.append(r)
    return out


def report_memory(args, optimizer, cfg, params, opt_state, x, y) -> dict:
    rows = memory_table(optimizer, cfg, (params, opt_state), (x, y), args.n)
    print(f"train step memory per call (params {tree_bytes(params):,} bytes, optimizer state {tree_bytes(opt_state):,} bytes)")
    kb = lambda v: f"{v / 1024:,.0f}"
    print(tabulate([[r["variant"], kb(r["argument"]), kb(r["output"]), kb(r["alias"]), kb(r["temp"]), kb(r["peak"]),
                     f"{r['compile_seconds'] * 1e3:.0f}", f"{statistics.median(r['step_seconds']) * 1e3:.2f}"] for r in rows],
                   headers=["variant", "argument KiB", "output KiB", "aliased KiB", "temp KiB", "peak KiB",
                            "compile ms", "step ms"]))
    return {"params_bytes": tree_bytes(params), "opt_state_bytes": tree_bytes(opt_state), "variants": rows}


def kernel_table(cfg: Config, rows: int, n: int) -> list[dict]:
    """Each Pallas kernel (interpret=True on this CPU) and its jnp twin (compiled by XLA), with the largest difference."""
    x = jax.random.normal(jax.random.key(4), (rows, cfg.d_model))
    w = 1 + 0.3 * jax.random.normal(jax.random.key(5), (cfg.d_model,))
    b = jax.random.normal(jax.random.key(6), (cfg.d_model, cfg.d_model))
    cases = {  # name: (pallas, xla, args, terms of the longest reduction)
        "rmsnorm": (lambda a, v: pallas_kernels.rmsnorm(a, v, cfg.norm_eps), lambda a, v: rms_norm(a, v, cfg.norm_eps), (x, w), cfg.d_model),
        "softmax": (pallas_kernels.softmax, lambda a: jax.nn.softmax(a, axis=-1), (x,), cfg.d_model),
        "matmul": (pallas_kernels.matmul, lambda a, c: a @ c, (x, b), cfg.d_model)}
    out = []
    for name, (pallas_fn, xla_fn, args, terms) in cases.items():
        r = {"kernel": name, "shape": [list(a.shape) for a in args]}
        for impl, fn in (("pallas_interpret", pallas_fn), ("xla", xla_fn)):
            c = compile_and_run(jax.jit(fn), args, n)
            r[impl] = {"compile_seconds": c["compile_seconds"], "run_seconds": c["run_seconds"],
                       "run_ms_median": statistics.median(c["run_seconds"]) * 1e3}
            r[impl + "_out"] = np.asarray(c["compiled"](*args), np.float64)
        ref = r.pop("xla_out")
        r["max_abs_diff"] = float(np.abs(r.pop("pallas_interpret_out") - ref).max())
        r["tolerance"] = tolerance(np.float32, np.abs(ref).max(), terms=terms)
        out.append(r)
    return out


def report_kernels(args, cfg: Config) -> dict:
    rows = kernel_table(cfg, args.batch * args.seq, args.n)
    ms = lambda s: f"{statistics.median(s) * 1e3:.3f}"
    print("Pallas kernels run by the interpreter on this CPU, beside XLA's own code for the same math.")
    print("Interpret mode evaluates the grid in a loop: its times say nothing about GPU speed.")
    print(tabulate([[r["kernel"], " @ ".join("x".join(map(str, s)) for s in r["shape"]),
                     f"{r['pallas_interpret']['compile_seconds'] * 1e3:.0f}", ms(r["pallas_interpret"]["run_seconds"]),
                     f"{r['xla']['compile_seconds'] * 1e3:.0f}", ms(r["xla"]["run_seconds"]),
                     f"{r['max_abs_diff']:.1e}", f"{r['tolerance']:.1e}"] for r in rows],
                   headers=["kernel", "shape", "pallas compile ms", "pallas run ms", "xla compile ms", "xla run ms",
                            "max |diff|", "tolerance"]))
    return {"kernels": rows}


def main() -> None:
    args = parse_args()
    cfg = Config(vocab_size=args.vocab)
    optimizer = make_optimizer()
    params, opt_state = init_state(jax.random.key(0), cfg, optimizer)
    x, y = random_batch(jax.random.key(1), cfg, args.batch, args.seq)
    step = make_train_step(optimizer, cfg)
    kernels = report_kernels(args, cfg)
    if not args.earlier:
        if args.json:
            path = write_result("kernels", {"args": vars(args), "config": cfg.__dict__, **kernels},
                                packages=("jax", "jaxlib", "optax"), out_dir=Path(__file__).parent / "results")
            print(f"wrote {path}")
        return

    mem = report_memory(args, optimizer, cfg, params, opt_state, x, y)
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
    with tempfile.TemporaryDirectory() as logdir:  # the train step, already compiled: the trace holds runs only
        path = capture(step, (params, opt_state, x, y), args.trace_steps, logdir)
        trace = summarize(path)
        print(f"\nprofiler trace of {args.trace_steps} train steps: {path.name} "
              f"({path.stat().st_size:,} bytes), {trace['op_us'] / 1e3:.1f} ms inside XLA ops")
    print(tabulate([[k, c, f"{us / 1e3:.2f}", f"{100 * us / trace['op_us']:.0f}%"] for k, c, us in trace["kinds"][:6]],
                   headers=["op kind", "calls", "ms", "share"]))
    print(tabulate([[op, c, f"{us / 1e3:.2f}"] for _, op, c, us in trace["ops"][:5]], headers=["top op", "calls", "ms"]))
    if args.json:
        data = {"args": vars(args), "config": cfg.__dict__, "lower_compile_seconds": compile_s, "recompilations": events,
                "kernels": kernels, "memory": mem, "costs": costs, "trace": {"file": path.name, "op_ms": trace["op_us"] / 1e3,
                                          "kinds": [[k, c, us / 1e3] for k, c, us in trace["kinds"]],
                                          "top_ops": [[op, c, us / 1e3] for _, op, c, us in trace["ops"]]},
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
