"""Training, once per machine: the trained weights are cached, keyed by a hash of what produced them.

The key hashes the source of the model, the data and the training function together with the
hyperparameters, so a change to any of them trains afresh, and another step whose copies of them
are identical reuses the same file. Training is seeded: the same CPU gives the same weights.
A file lock keeps two processes (two test runs at once) from training the same model twice.
"""
from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import os
import tempfile

import torch
import torch.nn.functional as F

import mdm
import model as model_module
import task
from dlc_shared.data import cache_dir
from model import Config, Transformer, causal_mask, full_mask, positions

AR_RECIPE = dict(steps=800, batch=128, lr=3e-3, seed=0)
MDM_RECIPE = dict(steps=1200, batch=128, lr=3e-3, seed=0)


def lr_at(step: int, steps: int, lr: float) -> float:
    """Linear warm-up over the first 5% of steps, then linear decay to zero."""
    warm = max(1, steps // 20)
    return lr * min((step + 1) / warm, (steps - step) / (steps - warm))


def train_ar(cfg: Config, steps: int, batch: int, lr: float, seed: int) -> Transformer:
    """Next-token prediction on the answer tokens, with a causal mask."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Transformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step in range(steps):
        n = int(torch.randint(task.MIN_N, task.MAX_N + 1, (1,), generator=gen))
        x = task.make_batch(gen, batch, n)
        T = x.shape[1] - 1
        logits, _ = model(x[:, :-1], positions(T, batch), causal_mask(T, batch))
        # position t predicts token t+1; only the answer tokens (after the separator) are scored
        loss = F.cross_entropy(logits[:, n:].reshape(-1, cfg.vocab_size), x[:, n + 1:].reshape(-1))
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def train_mdm(cfg: Config, steps: int, batch: int, lr: float, seed: int) -> Transformer:
    """Masked diffusion: mask the answer at a random ratio t, predict the masked tokens, full attention."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Transformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step in range(steps):
        n = int(torch.randint(task.MIN_N, task.MAX_N + 1, (1,), generator=gen))
        x = task.make_batch(gen, batch, n)
        t = mdm.sample_ratios(gen, batch)
        noisy, masked = mdm.mask_answer(x, n + 1, t, gen)
        T = x.shape[1]
        logits, _ = model(noisy, positions(T, batch), full_mask(T, batch))
        loss = mdm.mdm_loss(logits[:, n + 1:], x[:, n + 1:], masked, t)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def recipe_key(train_fn, cfg: Config, recipe: dict, depends=()) -> str:
    """A hash of the code that trains (model, data, training function, `depends`) and of its settings."""
    sources = [inspect.getsource(obj) for obj in (model_module, task, lr_at, train_fn, *depends)]
    blob = json.dumps([sources, vars(cfg), recipe, torch.__version__], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cached_model(name: str, train_fn, recipe: dict, cfg: Config | None = None, depends=()) -> Transformer:
    """The model `train_fn(cfg, **recipe)` trains, from the cache if it is there, else trained and stored."""
    cfg = cfg or Config()
    path = cache_dir() / f"dllm-{name}-{recipe_key(train_fn, cfg, recipe, depends)}.pt"
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)       # a second process waits here, then finds the file
        if not path.exists():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)           # one thread: the same sums in the same order on any core count
            try:
                state = train_fn(cfg, **recipe).state_dict()
            finally:
                torch.set_num_threads(threads)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            os.close(fd)
            try:
                torch.save(state, tmp)
                os.chmod(tmp, 0o644)           # mkstemp makes it private; the cache is shared
                os.replace(tmp, path)          # atomic: a reader never sees half a file
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    model = Transformer(cfg)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


def ar_model() -> Transformer:
    return cached_model("ar", train_ar, AR_RECIPE)


def mdm_model() -> Transformer:
    return cached_model("mdm", train_mdm, MDM_RECIPE, depends=(mdm,))
