"""Train the lab's model once on the project's corpus and cache the weights outside the repository.

Every step that needs a trained model calls `trained_model()`: the first call
trains (a few hundred steps, well under a minute on two cores) and writes the
state dict to the shared cache under a name that hashes the whole recipe, so a
changed config or corpus trains a new file instead of reading a stale one.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict

import numpy as np
import torch
import torch.nn.functional as F

from dlc_shared.data import cache_dir, corpus_hash, token_ids
from model import Llama, ModelConfig

RECIPE_VERSION = 1  # bump when the training loop below changes


def recipe(cfg: ModelConfig, steps: int, batch: int, lr: float, seed: int) -> dict:
    return {"model": asdict(cfg), "steps": steps, "batch": batch, "lr": lr, "seed": seed,
            "corpus": corpus_hash(), "torch": torch.__version__, "version": RECIPE_VERSION}


def train(cfg: ModelConfig, steps: int, batch: int, lr: float, seed: int, log=print) -> Llama:
    """AdamW, linear warmup then cosine decay, random windows of the train split."""
    torch.manual_seed(seed)
    data = torch.from_numpy(token_ids("train", cfg.vocab_size).astype(np.int64))
    model = Llama(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed)
    warmup = max(1, steps // 15)
    for step in range(steps):
        scale = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr * max(scale, 0.1)
        starts = torch.randint(len(data) - cfg.block_size - 1, (batch,), generator=gen)
        x = torch.stack([data[s:s + cfg.block_size] for s in starts])
        y = torch.stack([data[s + 1:s + cfg.block_size + 1] for s in starts])
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % 50 == 0 or step + 1 == steps:
            log(f"  train step {step + 1:4d}/{steps} | loss {loss.item():.3f}")
    return model.eval()


def trained_model(cfg: ModelConfig | None = None, steps: int = 300, batch: int = 16, lr: float = 3e-3,
                  seed: int = 0, log=print) -> Llama:
    """The model trained with this recipe: from the cache if it is there, else trained now and cached."""
    cfg = cfg or ModelConfig()
    key = hashlib.sha256(json.dumps(recipe(cfg, steps, batch, lr, seed), sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / f"inference-quantization-llama-{key}.pt"
    if path.exists():
        model = Llama(cfg)
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()
    log(f"training the lab's model once ({steps} steps); cached as {path}")
    model = train(cfg, steps, batch, lr, seed, log)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:  # write then rename: parallel processes never read half a file
        torch.save(model.state_dict(), tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return model
