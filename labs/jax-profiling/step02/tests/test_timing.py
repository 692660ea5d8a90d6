import time

import jax
import jax.numpy as jnp
import numpy as np
from dlc_shared.testing import assert_close

from timing import time_calls, time_steps
from train import make_train_step


def test_a_call_returns_before_its_result_is_computed():
    # 12 chained 512^2 matmuls are ~3 GFLOP: hundreds of ms on a CPU core, while queueing them
    # takes well under a millisecond each. Right after the loop the last result cannot be there yet.
    f = jax.jit(lambda a, b: jnp.tanh(a @ b))
    a = jax.random.normal(jax.random.key(0), (512, 512)) / 512 ** 0.5
    out = jax.block_until_ready(f(a, a))  # compile outside the check
    x = a
    for _ in range(12):
        x = f(x, a)
    assert not x.is_ready()
    jax.block_until_ready(x)
    assert x.is_ready()
    ref = np.asarray(a, np.float64)
    y = ref
    for _ in range(12):
        y = np.tanh(y @ ref)
    assert np.std(y) > 0.01  # varied values, not all zero
    # 12 chained matmuls of 512 terms; tanh is 1-Lipschitz, so the rounding errors do not grow
    assert_close(x, y, np.float32, terms=512, depth=12)
    assert_close(out, np.tanh(ref @ ref), np.float32, terms=512)


class SlowResult:
    """Stands in for an array whose computation takes `seconds`: waiting for it takes that long."""
    def __init__(self, seconds):
        self.seconds = seconds

    def block_until_ready(self):
        time.sleep(self.seconds)
        return self


def test_time_calls_includes_the_wait_only_when_blocking():
    fn = lambda: SlowResult(0.2)
    waited = time_calls(fn, (), 2, block=True)
    queued = time_calls(fn, (), 2, block=False)
    assert min(waited) >= 0.2  # time.sleep never returns early
    assert max(queued) < 0.2  # the wait happened outside the timed region


def test_time_steps_runs_the_chain_twice(state, batch, cfg, optimizer):
    step = make_train_step(optimizer, cfg)
    out = time_steps(step, state, batch, 2)
    assert len(out["blocked_step_seconds"]) == 2
    # the same 4 steps, each awaited: identical program, identical inputs -> identical bits
    s = state
    for _ in range(4):
        *s, loss = step(*s, *batch)
    for a, b in zip(jax.tree_util.tree_leaves(out["state"]), jax.tree_util.tree_leaves(s)):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert float(out["loss"]) == float(loss)
