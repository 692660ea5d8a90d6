"""Dynamic loss scaling for float16: multiply the loss so small gradients survive, undo it before the update.

float16 flushes anything below 2^-24 (6e-8) to zero, and gradients of a mean over many samples are
that small. Scaling the loss by S scales every gradient by S on the way back; dividing by S before
the update restores them. Too large an S overflows (inf or NaN in some gradient): then the step is
skipped and S is halved (backoff). After `growth_interval` good steps in a row S is doubled, so S
stays near the largest value that does not overflow. Scales are powers of two, so scaling and
unscaling are exact. These are the rules and defaults of torch.amp.GradScaler.
"""
from __future__ import annotations

import torch


class DynamicLossScaler:
    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000):
        self.scale = init_scale
        self.growth_factor, self.backoff_factor, self.growth_interval = growth_factor, backoff_factor, growth_interval
        self.good_steps = 0

    def found_overflow(self, grads: list[torch.Tensor]) -> bool:
        return any(not torch.isfinite(g).all() for g in grads)

    def unscale(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        return [g.float() / self.scale for g in grads]

    def update(self, found_inf: bool) -> None:
        """Backoff on overflow (and restart the count); grow after growth_interval good steps."""
        if found_inf:
            self.scale *= self.backoff_factor
            self.good_steps = 0
        else:
            self.good_steps += 1
            if self.good_steps == self.growth_interval:
                self.scale *= self.growth_factor
                self.good_steps = 0


def scaled_grad(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    """The gradient of scale * MSE in the dtype of w, x, y: the scale enters where backward starts,
    in the per-sample gradient dL/dr_i = 2 r_i / n, which is where float16 underflows."""
    r = (x * w).sum(dim=-1) - y
    upstream = r * (2.0 * scale / x.shape[0])
    return (x * upstream[:, None]).sum(dim=0)


def make_fp16_problem(n: int = 1024, d: int = 16, seed: int = 0):
    """float16 data near convergence: weights ~1e-3 off the solution by ~5e-6, so each per-sample
    gradient 2 r_i / n is ~1e-8, below float16's smallest subnormal 6e-8 (half of it rounds to 0)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w_true = 1e-3 * torch.randn(d, generator=g, dtype=torch.float64)
    w0 = w_true + 5e-6 * torch.randn(d, generator=g, dtype=torch.float64)
    return x.half(), (x @ w_true).half(), w0.half()


def train_fp16(w0, x, y, lr: float, steps: int, scaler: DynamicLossScaler | None = None,
               inject: frozenset[int] = frozenset()):
    """SGD with float32 master weights and a float16 backward; returns the master and per-step (scale, skipped).

    Without a scaler the scale is 1. Steps in `inject` get an inf in the gradient (a test's overflow)."""
    master = torch.nn.Parameter(w0.float())
    opt = torch.optim.SGD([master], lr=lr)
    history = []
    for step in range(steps):
        scale = scaler.scale if scaler else 1.0
        g = scaled_grad(master.detach().to(x.dtype), x, y, scale)
        if step in inject:
            g[0] = float("inf")
        found_inf = scaler.found_overflow([g]) if scaler else False
        if not found_inf:
            master.grad = scaler.unscale([g])[0] if scaler else g.float()
            opt.step()
        history.append((scale, found_inf))
        if scaler:
            scaler.update(found_inf)
    return master.detach(), history
