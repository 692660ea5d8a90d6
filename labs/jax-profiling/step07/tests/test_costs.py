import jax
import jax.numpy as jnp
import pytest

from costs import (cost, dot_flops, forward_matmul_flops, matmul_bytes, matmul_flops, roofline_seconds,
                   train_matmul_flops)
from model import forward_jit
from train import make_train_step


def test_xla_counts_a_matmul_like_we_do():
    m, k, n = 48, 32, 16
    c = cost(jax.jit(lambda a, b: a @ b).lower(jnp.ones((m, k)), jnp.ones((k, n))).compile())
    assert c["flops"] == matmul_flops(m, k, n) == 2 * 48 * 32 * 16
    assert c["bytes"] == matmul_bytes(m, k, n) == 4 * (48 * 32 + 32 * 16 + 48 * 16)


def test_dot_flops_reads_batched_einsums():
    q, k = jnp.ones((2, 3, 4, 5, 6)), jnp.ones((2, 3, 7, 6))
    text = jax.jit(lambda q, k: jnp.einsum("bkgtd,bksd->bkgts", q, k)).lower(q, k).as_text()
    assert dot_flops(text) == (1, 2 * (2 * 3 * 4 * 5 * 7) * 6)  # 2 * outputs * contracted length


def test_forward_dots_are_the_hand_count(state, batch, cfg):
    params, _ = state
    x, _ = batch
    lowered = forward_jit.lower(params, x, cfg=cfg)
    n_dots, flops = dot_flops(lowered.as_text())
    # per layer: q, k, v, o, two attention einsums, gate, up, down; then the lm head
    assert n_dots == 9 * cfg.n_layers + 1
    assert flops == forward_matmul_flops(cfg, *x.shape)
    xla = cost(lowered.compile())["flops"]
    assert xla >= flops  # XLA also counts the elementwise work (norms, softmax, rope, silu)


def test_train_step_is_three_forwards_of_matmuls(state, batch, cfg, optimizer):
    lowered = make_train_step(optimizer, cfg).lower(*state, *batch)
    n_dots, flops = dot_flops(lowered.as_text())
    assert n_dots == 3 * (9 * cfg.n_layers + 1)
    assert flops == train_matmul_flops(cfg, *batch[0].shape) == 3 * forward_matmul_flops(cfg, *batch[0].shape)


@pytest.mark.parametrize("flops, nbytes, expected", [(1e12, 1e9, 1.0), (1e9, 1e10, 2.0)])
def test_roofline_takes_the_slower_ceiling(flops, nbytes, expected):
    assert roofline_seconds(flops, nbytes, peak_flops=1e12, bytes_per_s=5e9) == expected
