"""How much communication the buckets hide: backward alone, the all-reduces alone, the two one after
the other, and overlapped through the hooks, timed per step on rank 0 of k gloo processes.

hidden = (serial - overlapped) / comm: 1 means the all-reduces cost nothing extra, 0 that nothing overlapped.
A wider model than the tests' (--d-model) makes communication large enough to see.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.distributed as dist
from tabulate import tabulate

from buckets import BucketedAllReduce, assign_buckets
from dlc_shared.bench import median, write_result
from launch import launch
from loss import next_token_loss
from model import Llama, ModelConfig
from train import TrainConfig, batch


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def measure(rank: int, world_size: int, d_model: int, batch_size: int, bucket_bytes: int, repeat: int) -> dict:
    cfg = TrainConfig(batch_size=batch_size)
    torch.manual_seed(0)
    plain = Llama(ModelConfig(d_model=d_model, d_ff=3 * d_model, block_size=cfg.block_size))
    hooked = Llama(ModelConfig(d_model=d_model, d_ff=3 * d_model, block_size=cfg.block_size))
    overlap = BucketedAllReduce(hooked, world_size, bucket_bytes)
    params = list(plain.parameters())
    buckets = [[params[i] for i in idx] for idx in assign_buckets(params, bucket_bytes)]  # the same buckets
    buffers = [torch.zeros(sum(p.numel() for p in b)) for b in buckets]
    x, y = batch(rank, cfg, plain)

    def backward(model):
        model.zero_grad(set_to_none=True)
        next_token_loss(model(x), y).backward()

    def comm():  # the buckets' all-reduces one after the other, nothing else running
        for buf in buffers:
            dist.all_reduce(buf)

    def after_backward():  # what the hooks do, but only once backward is over
        for b, buf in zip(buckets, buffers):
            torch.cat([p.grad.flatten() for p in b], out=buf)
            dist.all_reduce(buf)
            buf.div_(world_size)
            offset = 0
            for p in b:
                p.grad.copy_(buf[offset:offset + p.numel()].view_as(p))
                offset += p.numel()

    modes = {"backward": lambda: backward(plain),
             "comm": comm,
             "serial": lambda: (backward(plain), after_backward()),
             "overlapped": lambda: (backward(hooked), overlap.wait())}
    samples = {m: [] for m in modes}
    for i in range(repeat + 2):
        for m, fn in modes.items():  # interleaved, so slow drifts of the machine hit every mode alike
            dist.barrier()
            t0 = time.perf_counter()
            fn()
            dist.barrier()
            if i >= 2:
                samples[m].append(time.perf_counter() - t0)
    return {"params": plain.num_params(), "buckets": len(overlap.buckets),
            "bucket_bytes": [4 * b.numel() for b in overlap.buffers], "samples_s": samples}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world-size", type=positive_int, default=2)
    ap.add_argument("--d-model", type=positive_int, default=256)
    ap.add_argument("--batch-size", type=positive_int, default=2, help="global batch, in sequences")
    ap.add_argument("--bucket-kib", type=positive_int, default=1024)
    ap.add_argument("--repeat", type=positive_int, default=20)
    ap.add_argument("--json", action="store_true", help="write results/overlap.json")
    args = ap.parse_args()
    if args.batch_size % args.world_size or args.d_model % 4:
        ap.error("--batch-size must split evenly over --world-size, and --d-model be a multiple of 4")
    torch.set_num_threads(1)
    r = launch(measure, args.world_size, args.d_model, args.batch_size // args.world_size,
               args.bucket_kib * 1024, args.repeat, timeout=300)[0]
    med = {m: median(s) for m, s in r["samples_s"].items()}
    hidden = (med["serial"] - med["overlapped"]) / med["comm"]
    print(f"{r['params']:,} parameters in {r['buckets']} buckets; {args.world_size} ranks")
    print(tabulate([[m, v * 1e3] for m, v in med.items()], headers=["per step", "ms (median)"], floatfmt=".2f"))
    print(f"hidden: (serial - overlapped) / comm = {hidden:.2f}")
    if args.json:
        path = write_result("overlap", {"world_size": args.world_size, "d_model": args.d_model,
                                        "global_batch": args.batch_size, **r,
                                        "median_ms": {m: round(v * 1e3, 3) for m, v in med.items()},
                                        "hidden_fraction": round(hidden, 3)})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
