"""optax AdamW + warmup/cosine + clipping against torch.optim.AdamW on the same gradients."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import torch
from dlc_shared.testing import assert_close

from train import get_batch, make_optimizer, make_train_step


def test_schedule_is_linear_warmup_then_cosine():
    _, schedule = make_optimizer(lr=1e-3, warmup=10, total=110)
    for step in [0, 3, 10, 35, 60, 110, 150]:
        if step < 10:
            expect = 1e-3 * step / 10
        else:
            progress = min(step - 10, 100) / 100
            expect = 1e-4 + (1e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi * progress))
        # float32 arithmetic (fraction, cos, scale, shift) against float64; scale: the peak lr
        assert_close(float(schedule(step)), expect, np.float32, depth=4, scale=1e-3)


def test_adamw_with_clipping_matches_torch():
    rng = np.random.default_rng(0)
    params = {"w": jnp.asarray(rng.normal(size=(4, 3)), jnp.float32), "norm": jnp.ones((3,), jnp.float32)}
    grads = [{"w": rng.normal(size=(4, 3)) * 3, "norm": rng.normal(size=(3,))} for _ in range(6)]
    optimizer, schedule = make_optimizer(lr=0.1, warmup=2, total=6, weight_decay=0.1, clip=1.0)
    state = optimizer.init(params)
    p = params
    for g in grads:
        g = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), g)
        updates, state = optimizer.update(g, state, p)
        p = jax.tree_util.tree_map(lambda a, u: a + u, p, updates)

    w = torch.tensor(np.asarray(params["w"]), requires_grad=True)
    n = torch.tensor(np.asarray(params["norm"]), requires_grad=True)
    opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [n], "weight_decay": 0.0}],
                            lr=0.1, betas=(0.9, 0.95), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: float(schedule(s)) / 0.1)
    for g in grads:
        w.grad = torch.tensor(g["w"], dtype=torch.float32)
        n.grad = torch.tensor(g["norm"], dtype=torch.float32)
        torch.nn.utils.clip_grad_norm_([w, n], 1.0)
        opt.step()
        sched.step()
    assert not np.allclose(p["w"], params["w"])
    # 6 optimizer steps in sequence; clipping sums the squares of all 15 gradient entries
    assert_close(p["w"], w.detach().numpy(), np.float32, terms=15, depth=len(grads))
    assert_close(p["norm"], n.detach().numpy(), np.float32, terms=15, depth=len(grads))


def test_optimizer_state_is_a_pytree_like_params(params):
    optimizer, _ = make_optimizer(1e-3, 1, 10)
    state = optimizer.init(params)
    n_params = sum(x.size for x in jax.tree_util.tree_leaves(params))
    n_state = sum(x.size for x in jax.tree_util.tree_leaves(state))
    assert n_params * 2 <= n_state <= n_params * 2 + 4  # m and v, plus step counters


def test_adamw_learns_a_repeating_sequence(params, cfg):
    ids = (np.arange(2000) % 5 * 11).astype(np.uint16)
    optimizer, _ = make_optimizer(1e-2, 5, 40)
    step = make_train_step(optimizer, cfg)
    p, state, losses = params, optimizer.init(params), []
    for i in range(40):
        x, y = get_batch(ids, jax.random.key(i), 4, 16)
        p, state, loss, _ = step(p, state, x, y)
        losses.append(float(loss))
    # Not a rounding bound: a period-5 sequence is predictable after 5 tokens, so the loss must fall
    # from above ln V (an untrained model) to far below it.
    assert losses[0] > math.log(cfg.vocab_size) and losses[-1] < 0.5
