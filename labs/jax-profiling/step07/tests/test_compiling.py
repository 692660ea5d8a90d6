import jax
import jax.numpy as jnp
import numpy as np

from compiling import TraceCounter, compile_and_run, explain_cache_misses
from model import forward_jit


def test_compiled_program_is_the_jitted_program(state, batch, cfg):
    params, _ = state
    x, _ = batch
    out = compile_and_run(forward_jit, (params, x), 2, cfg=cfg)
    assert out["lower_seconds"] > 0 and out["compile_seconds"] > 0 and len(out["run_seconds"]) == 2
    # the same lowered program compiled with the same options: identical bits
    assert np.array_equal(np.asarray(out["compiled"](params, x)), np.asarray(forward_jit(params, x, cfg)))


def test_recompilation_triggers():
    counter = TraceCounter(lambda x, s, eps: x * s + eps)
    f = jax.jit(counter, static_argnums=2)
    x = jnp.arange(6.0).reshape(2, 3)
    expected = 0
    for args, retraces in [((x, 1.0, 0.5), True),                    # first call
                           ((x, 2.0, 0.5), False),                   # a new Python float: same weak f32[] type
                           ((x, jnp.float32(2.0), 0.5), True),       # an array: f32[] without weak type
                           ((x, jnp.float32(3.0), 0.5), False),      # a new value of the same array type
                           ((x[:1], 1.0, 0.5), True),                # new shape
                           ((x.astype(jnp.bfloat16), 1.0, 0.5), True),  # new dtype
                           ((x, 1.0, 0.25), True),                   # new static value
                           ((x, 1.0, 0.5), False)]:                  # seen before: cache hit
        out = f(*args)
        expected += retraces
        assert counter.traces == expected, args
        assert np.array_equal(np.asarray(out, np.float32),
                              np.asarray(args[0], np.float32) * np.float32(args[1]) + np.float32(args[2]))
    assert f._cache_size() == expected  # one compiled executable per trace


def test_jax_explains_each_miss():
    f = jax.jit(lambda x, s: x * s)
    x = jnp.ones(3)
    with explain_cache_misses() as why:
        f(x, 1.0)
        f(x, 2.0)
        f(x, jnp.float32(1.0))
        f(jnp.ones(4), 1.0)
    assert len(why) == 3  # the hit (second call) explains nothing
    assert "never seen function" in why[0]
    assert "weak_type=False" in why[1] and "weak_type=True" in why[1]
    assert "f32[4]" in why[2] and "f32[3]" in why[2]
