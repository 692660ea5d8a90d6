"""The single-process run written with plain PyTorch: the reference every parallel scheme is held to.

Same seed, same global batch per step, F.cross_entropy and torch.optim.AdamW.
(A helper module of the tests, imported by name: pytest puts tests/ on the path.)
"""
import torch
import torch.nn.functional as F

from data import global_batch
from model import Llama, ModelConfig


def single_process(cfg) -> dict:
    torch.manual_seed(cfg.seed)
    model = Llama(ModelConfig(block_size=cfg.block_size))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)
    losses, grads = [], None
    for step in range(cfg.steps):
        x, y = global_batch(step, cfg.batch_size, cfg.block_size, model.cfg.vocab_size, cfg.seed)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        if step == 0:
            grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        opt.step()
        losses.append(loss.item())
    return {"losses": losses, "grads": grads,
            "params": {n: p.detach().clone() for n, p in model.named_parameters()}, "model": model}


def flat(tensors: dict) -> torch.Tensor:
    return torch.cat([t.flatten() for t in tensors.values()])
