"""The decode bytes/token model, and batch-1 decode measured against it.

Generating one token at batch 1 multiplies a single activation vector by every
weight matrix: each weight is read once and used for one multiply-add. Reading
is the cost, so a decode step takes about

    time/token = (weight bytes + KV-cache bytes) / memory bandwidth

and the tokens/s of two formats should scale with the inverse of their bytes.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from dlc_shared.bench import median
from model import KVCache, Llama, ModelConfig, RMSNorm


def bench_config(d_model: int = 1024, n_layer: int = 4, vocab_size: int = 2048, block_size: int = 256) -> ModelConfig:
    """A decode-sized model: wide enough that reading its weights, not Python, sets the time."""
    d_ff = -(-8 * d_model // 3 // 128) * 128  # ~8/3 * d_model, rounded up to a multiple of 128
    return ModelConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=d_model // 64,
                       n_kv_head=d_model // 128, d_model=d_model, d_ff=d_ff)


def module_bytes_read(m: nn.Module) -> int:
    """Bytes one decode step reads from this module's own weights (children not included)."""
    if hasattr(m, "decode_bytes"):           # quantized layers state their own storage
        return m.decode_bytes()
    if isinstance(m, nn.Linear):             # the whole matrix, once
        return m.weight.numel() * m.weight.element_size()
    if isinstance(m, nn.Embedding):          # one row: the embedding is a lookup, not a product
        return m.weight.shape[1] * m.weight.element_size()
    if isinstance(m, RMSNorm):
        return m.weight.numel() * m.weight.element_size()
    return 0


def weight_bytes_per_token(model: Llama) -> int:
    """Weight bytes one batch-1 decode step reads (a tied lm_head reads its matrix; the embedding one row)."""
    return sum(module_bytes_read(m) for m in model.modules())


def kv_bytes_per_token(cache: KVCache, context: int) -> int:
    """KV-cache bytes one decode step reads at `context` cached positions, plus the position it writes."""
    return cache.bytes_per_position() * (context + 1)


def read_bandwidth(nbytes: int = 256 * 2**20, repeat: int = 5) -> float:
    """Bytes/s this machine reads from memory: time a sum over a buffer much larger than the caches."""
    x = torch.ones(nbytes // 4)
    x.sum()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        x.sum()
        times.append(time.perf_counter() - t0)
    return nbytes / median(times)


@torch.no_grad()
def generate(model: Llama, prompt: torch.Tensor, n_new: int, cache: KVCache | None = None) -> torch.Tensor:
    """Greedy decoding with a KV cache: the prompt in one pass, then one token per step."""
    cache = cache if cache is not None else model.new_cache(prompt.shape[0], prompt.shape[1] + n_new)
    logits = model(prompt, cache)
    out = []
    for _ in range(n_new):
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        out.append(nxt)
        logits = model(nxt, cache)
    return torch.cat(out, dim=1)


@torch.no_grad()
def decode_seconds(model: Llama, n_new: int, prompt_len: int = 16, repeat: int = 3,
                   new_cache=None) -> list[float]:
    """Seconds per generated token at batch 1, one sample per repeat (after one warm-up run)."""
    prompt = torch.randint(model.cfg.vocab_size, (1, prompt_len), generator=torch.Generator().manual_seed(0))
    samples = []
    for r in range(repeat + 1):
        cache = (new_cache or (lambda m, b, n: m.new_cache(b, n)))(model, 1, prompt_len + n_new)
        logits = model(prompt, cache)
        t0 = time.perf_counter()
        for _ in range(n_new):
            logits = model(logits[:, -1:].argmax(-1), cache)
        if r:  # the first run warms up allocations and kernel choices
            samples.append((time.perf_counter() - t0) / n_new)
    return samples
