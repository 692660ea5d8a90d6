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


def single_process_mixed(cfg) -> dict:
    """Mixed precision in one process: a bf16 model for forward and backward, fp32 master weights
    updated by torch.optim.AdamW from the bf16 gradients, then copied back to bf16."""
    torch.manual_seed(cfg.seed)
    model = Llama(ModelConfig(block_size=cfg.block_size))
    master = [p.detach().clone().requires_grad_() for p in model.parameters()]
    model.bfloat16()
    opt = torch.optim.AdamW(master, lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)
    losses = []
    for step in range(cfg.steps):
        x, y = global_batch(step, cfg.batch_size, cfg.block_size, model.cfg.vocab_size, cfg.seed)
        loss = F.cross_entropy(model(x).float().flatten(0, 1), y.flatten())
        model.zero_grad()
        loss.backward()
        for m, p in zip(master, model.parameters()):
            m.grad = p.grad.float()
        opt.step()
        with torch.no_grad():
            for m, p in zip(master, model.parameters()):
                p.copy_(m)
        losses.append(loss.item())
    return {"losses": losses}
