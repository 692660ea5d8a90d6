"""Bandwidth of the fused ops against a plain copy: how close does each RMSNorm / SiLU-and-mul come to it?

An elementwise op or a row norm does almost no arithmetic per byte, so its speed
limit is memory: a copy of the same tensor (read once, write once) is the ceiling.
RMSNorm without the residual moves exactly a copy's bytes; with it, twice as many.
Each backend's GB/s counts only the bytes a perfectly fused kernel must move.
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--hidden", type=int, default=1024, help="Qwen3-0.6B: 1024 (its MLP: 3072)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--json", action="store_true", help="also write results/bench-kernels[-cuda].json")
    args = parser.parse_args(argv)
    if args.tokens < 1 or args.hidden < 1:
        parser.error("--tokens and --hidden must be at least 1")

    import torch
    from tabulate import tabulate

    from backends import ACTIVATION, GPU_ONLY, RMSNORM
    from dlc_shared.bench import median, time_fn, write_result
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda: this machine has no CUDA GPU")
    dtype = getattr(torch, args.dtype)
    sync = torch.cuda.synchronize if args.device == "cuda" else None
    x = torch.randn(args.tokens, args.hidden, device=args.device, dtype=dtype)
    res, w = torch.randn_like(x), torch.randn(args.hidden, device=args.device, dtype=dtype)
    gate, up = torch.randn(args.tokens, 3 * args.hidden, device=args.device, dtype=dtype), None
    up = torch.randn_like(gate)
    usable = lambda table: [n for n in table if args.device == "cuda" or n not in GPU_ONLY]  # noqa: E731

    def gbps(fn, nbytes):
        seconds = median(time_fn(fn, warmup=3, repeat=20, sync=sync))
        return dict(us=1e6 * seconds, gbps=nbytes / seconds / 1e9)

    rows = [dict(op="copy", backend="torch", **gbps(lambda: x.clone(), 2 * x.nbytes))]
    for name in usable(RMSNORM):
        rows.append(dict(op="rmsnorm", backend=name, **gbps(lambda: RMSNORM[name](x, w, 1e-6), 2 * x.nbytes)))
        rows.append(dict(op="rmsnorm+residual", backend=name,
                         **gbps(lambda: RMSNORM[name](x, w, 1e-6, res), 4 * x.nbytes)))
    for name in usable(ACTIVATION):
        g = gate.clone()  # the fused CPU form writes into its input; timing it again on its output is the same work
        rows.append(dict(op="silu_and_mul", backend=name, **gbps(lambda: ACTIVATION[name](g, up), 3 * gate.nbytes)))
    copy = rows[0]["gbps"]
    for r in rows:
        r["of_copy"] = round(r["gbps"] / copy, 3)
    print(f"{args.tokens} x {args.hidden} {args.dtype} on {args.device}; GB/s counts the bytes a fused kernel moves")
    print(tabulate([[r["op"], r["backend"], f"{r['us']:.1f}", f"{r['gbps']:.1f}", f"{100 * r['of_copy']:.0f}%"]
                    for r in rows], headers=["op", "backend", "µs", "GB/s", "of copy GB/s"]))
    if args.json:
        path = write_result("bench-kernels" + ("" if args.device == "cpu" else f"-{args.device}"),
                            {"settings": vars(args), "results": rows}, packages=("torch", "triton"))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
