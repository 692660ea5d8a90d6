"""AdamW, the warmup + cosine learning-rate schedule, and gradient-norm clipping, written out."""
from __future__ import annotations

import math

import torch


class AdamW(torch.optim.Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter), one parameter at a time.

    m <- b1*m + (1-b1)*g           first moment: a running mean of the gradient
    v <- b2*v + (1-b2)*g^2         second moment: a running mean of its square
    p <- p - lr*wd*p               decay the weight itself, not through the gradient
    p <- p - lr * m_hat / (sqrt(v_hat) + eps),  with m_hat = m/(1-b1^t), v_hat = v/(1-b2^t)

    Subclassing torch.optim.Optimizer gives param_groups and state_dict() for free:
    the checkpoint step saves and restores m, v and t through them.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.95), eps: float = 1e-8,
                 weight_decay: float = 0.1):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:  # zeros at t=0: the bias corrections below undo this start
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)
                p.mul_(1 - lr * wd)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay the matrices (embeddings, projections); leave the RMSNorm gains alone."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]


def lr_at(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    """Learning rate for 0-based `step`: linear warmup to max_lr, then cosine decay to min_lr.

    Warmup: Adam's second moment v starts as a poor estimate, so the first updates
    are kept small. Cosine: large steps early, small steps to settle at the end.
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm; return the norm before.

    One scale for every tensor keeps the update's direction; only its length shrinks.
    """
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.sqrt(sum(g.pow(2).sum() for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g.mul_(scale.to(g.dtype))
    return total.item()
