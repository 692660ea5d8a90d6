"""A serving calculator over published configs: KV bytes per token, the largest batch that fits, and the
decode roofline (the tokens/s that memory bandwidth allows).

    python calc.py --model llama-3-8b --gpu h100 --context 8192
    python calc.py --all --gpu h200 --context 32768

Memory:   free = num_gpus * memory - params * weight_bytes;  max batch = floor(free / (kv_per_token * context))
Roofline: a decode step reads the weights once and every sequence's cache, so
          tokens/s <= batch * bandwidth / (weights read + batch * context * kv_per_token).
An MoE step reads only the experts its tokens were routed to: with E experts, top-k routing
and B tokens spread uniformly, E * (1 - (1 - k/E)^B) experts per layer.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}

# NVIDIA datasheets (SXM): H100 80 GB HBM3 at 3.35 TB/s (nvidia.com/en-us/data-center/h100/);
# H200 141 GB HBM3e at 4.8 TB/s (nvidia.com/en-us/data-center/h200/).
GPUS = {"h100": dict(memory=80e9, bandwidth=3.35e12), "h200": dict(memory=141e9, bandwidth=4.8e12)}


@dataclass(frozen=True)
class Config:
    layers: int
    hidden: int
    heads: int
    kv_heads: int = 0
    head_dim: int = 0
    ffn: int = 0
    vocab: int = 0
    tied: bool = False
    qk_norm: bool = False
    # MLA (DeepSeek-V2/V3): the cache holds a latent of kv_lora_rank plus a qk_rope_head_dim key per layer
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    # MoE: the total is published; routed experts are counted from the config
    params: int = 0
    moe_layers: int = 0
    experts: int = 0
    top_k: int = 0
    expert_params: int = 0

    def num_params(self) -> int:
        if self.params:
            return self.params
        attn = 2 * self.hidden * self.heads * self.head_dim + 2 * self.hidden * self.kv_heads * self.head_dim
        norms = 2 * self.hidden + (2 * self.head_dim if self.qk_norm else 0)
        layer = attn + 3 * self.hidden * self.ffn + norms
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        return self.layers * layer + self.hidden + embeddings

    def kv_elements_per_token(self) -> int:
        if self.kv_lora_rank:
            return self.layers * (self.kv_lora_rank + self.qk_rope_head_dim)
        return 2 * self.layers * self.kv_heads * self.head_dim

    def params_read(self, batch: int) -> float:
        """Weights a decode step of `batch` tokens reads: all of a dense model; the routed-to experts of an MoE."""
        if not self.experts:
            return self.num_params()
        routed = self.moe_layers * self.experts * self.expert_params
        touched = self.experts * (1 - (1 - self.top_k / self.experts) ** batch)
        return self.num_params() - routed + self.moe_layers * touched * self.expert_params


# config.json of each model on huggingface.co (meta-llama/Meta-Llama-3-8B, meta-llama/Meta-Llama-3-70B,
# Qwen/Qwen3-0.6B, Qwen/Qwen3-8B, deepseek-ai/DeepSeek-V3); DeepSeek-V3's 671B total is from its report.
CONFIGS = {
    "llama-3-8b": Config(32, 4096, 32, 8, 128, 14336, 128256),
    "llama-3-70b": Config(80, 8192, 64, 8, 128, 28672, 128256),
    "qwen3-0.6b": Config(28, 1024, 16, 8, 128, 3072, 151936, tied=True, qk_norm=True),
    "qwen3-8b": Config(36, 4096, 32, 8, 128, 12288, 151936, qk_norm=True),
    "deepseek-v3": Config(61, 7168, 128, kv_lora_rank=512, qk_rope_head_dim=64, params=671_000_000_000,
                          moe_layers=58, experts=256, top_k=8, expert_params=3 * 7168 * 2048),
}


def estimate(cfg: Config, gpu: str, context: int, batch: int = 1, num_gpus: int = 1, weight_dtype: str = "bf16",
             kv_dtype: str = "bf16", memory: float | None = None) -> dict:
    g = GPUS[gpu]
    memory = num_gpus * (memory if memory is not None else g["memory"])
    bandwidth = num_gpus * g["bandwidth"]  # ideal tensor parallelism: every GPU reads its share
    kv_per_token = cfg.kv_elements_per_token() * BYTES[kv_dtype]
    weights = cfg.num_params() * BYTES[weight_dtype]
    free = memory - weights
    max_batch = max(0, math.floor(free / (kv_per_token * context)))
    step_bytes = cfg.params_read(batch) * BYTES[weight_dtype] + batch * context * kv_per_token
    return dict(kv_bytes_per_token=kv_per_token, weight_bytes=weights, free_bytes=free, max_batch=max_batch,
                step_bytes=step_bytes, tokens_per_s=batch * bandwidth / step_bytes,
                fits=free > 0 and batch <= max_batch)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=sorted(CONFIGS))
    which.add_argument("--all", action="store_true", help="a table of every model")
    ap.add_argument("--gpu", choices=sorted(GPUS), default="h100")
    ap.add_argument("--num-gpus", type=int, default=1, help="GPUs sharing the model (memory and bandwidth add up)")
    ap.add_argument("--context", type=int, default=8192, help="positions per sequence (prompt + output)")
    ap.add_argument("--batch", type=int, default=1, help="sequences decoded together, for the roofline")
    ap.add_argument("--weight-dtype", choices=list(BYTES), default="bf16")
    ap.add_argument("--kv-dtype", choices=list(BYTES), default="bf16")
    ap.add_argument("--memory-gb", type=float, help="memory per GPU in GB (1e9 bytes); default: the datasheet's")
    args = ap.parse_args(argv)
    for name in ("num_gpus", "context", "batch"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.memory_gb is not None and not 0 < args.memory_gb < 1e6:
        ap.error(f"--memory-gb must be a positive number of GB, got {args.memory_gb}")
    memory = args.memory_gb * 1e9 if args.memory_gb is not None else None
    names = sorted(CONFIGS) if args.all else [args.model]
    print(f"{args.num_gpus} x {args.gpu.upper()}, context {args.context}, batch {args.batch}, "
          f"weights {args.weight_dtype}, KV {args.kv_dtype}")
    print(f"{'model':<12} {'KV B/token':>11} {'weights GB':>11} {'free GB':>9} {'max batch':>10} {'decode tok/s':>13}")
    for name in names:
        e = estimate(CONFIGS[name], args.gpu, args.context, args.batch, args.num_gpus, args.weight_dtype,
                     args.kv_dtype, memory)
        max_batch = e["max_batch"] if e["free_bytes"] > 0 else "no room"
        tok_s = f"{e['tokens_per_s']:.0f}" if e["fits"] else "does not fit"
        print(f"{name:<12} {e['kv_bytes_per_token']:>11,.0f} {e['weight_bytes'] / 1e9:>11.1f} "
              f"{e['free_bytes'] / 1e9:>9.1f} {max_batch!s:>10} {tok_s:>13}")
    if not args.all and not e["fits"]:
        print(f"error: {args.model} at batch {args.batch} and context {args.context} does not fit in "
              f"{args.num_gpus} x {args.gpu.upper()}; try --num-gpus, a smaller --weight-dtype or a shorter context",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
