"""Shared by this step's tests: 8 fake CPU devices, a tiny config, and the single-device reference run."""
import os

# Before JAX starts its CPU backend: split the host into 8 devices. The tests check values, not
# speed, so LLVM's optimizations are off (they halve compile time here; the numbers are the same
# up to rounding, which the tolerances cover).
os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), "--xla_force_host_platform_device_count=8",
                                    "--xla_backend_optimization_level=0"]).strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from dlc_shared.data import cache_dir  # noqa: E402
from dlc_shared.testing import assert_close  # noqa: E402

from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from model import Config  # noqa: E402
from parallel import fsdp, make_mesh, make_shard_map_train_step, make_sharded_train_step, replicated  # noqa: E402
from train import batches, init_state, make_optimizer, make_train_step, train  # noqa: E402

# Compiling is most of this suite's time: keep compiled programs on disk for the next run and step.
jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax-compile"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

N_STEPS, BATCH, SEQ = 3, 16, 8


@pytest.fixture(scope="session")
def cfg():
    # Every split dimension divides by 8 (data) and the head counts by 2 (model).
    return Config(vocab_size=128, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, max_seq_len=16)


@pytest.fixture(scope="session")
def optimizer():
    return make_optimizer(1e-2, 0, N_STEPS)  # no warmup: every step moves the weights


@pytest.fixture(scope="session")
def data(cfg):
    ids = np.random.default_rng(0).integers(0, cfg.vocab_size, 4000).astype(np.uint16)
    return batches(ids, 0, N_STEPS, BATCH, SEQ)


@pytest.fixture(scope="session")
def state0(cfg, optimizer):
    return jax.jit(init_state, static_argnums=(1, 2))(jax.random.key(0), cfg, optimizer)


@pytest.fixture(scope="session")
def reference(cfg, optimizer, state0, data):
    """The run every layout must equal: the same step on one device."""
    state, losses = train(state0, make_train_step(optimizer, cfg), data)
    assert len(set(losses)) == N_STEPS  # the loss moves: equal curves are not a constant
    return state, losses


@pytest.fixture(scope="session")
def same_training(cfg):
    """assert_close for a whole run: losses and final parameters against the reference.

    A layout changes only the order of additions (a batch mean summed per device, then
    all-reduced; a matmul split over devices), so the runs differ by rounding. Longest
    reduction: the batch mean over B * T positions. Depth: the forward pass (two sublayers
    per block, the head, the log-softmax) is 2L + 2 stages; a training step runs it forward
    and backward and adds the update, 2 (2L + 2) + 1 stages; the loss of step k follows k steps.
    """
    fwd = 2 * cfg.n_layers + 2
    per_step = 2 * fwd + 1

    def check(params, losses, ref_params, ref_losses):
        n = len(ref_losses)
        assert len(losses) == n
        assert_close(np.array(losses), np.array(ref_losses), np.float32, terms=BATCH * SEQ,
                     depth=fwd + (n - 1) * per_step)
        flat, ref_flat = jax.tree_util.tree_leaves_with_path(params), jax.tree_util.tree_leaves_with_path(ref_params)
        assert [p for p, _ in flat] == [p for p, _ in ref_flat]
        for (path, a), (_, b) in zip(flat, ref_flat):
            try:
                assert_close(np.asarray(a), np.asarray(b), np.float32, terms=BATCH * SEQ, depth=n * per_step)
            except AssertionError as e:
                raise AssertionError(f"{jax.tree_util.keystr(path)}: {e}") from None
    return check


@pytest.fixture(scope="session")
def dp(cfg, optimizer, state0, data):
    """Step 02's layout: the batch split over 8 devices, everything else replicated."""
    mesh = make_mesh((8,), ("data",))
    shardings, batch = replicated(mesh, state0), NamedSharding(mesh, P("data"))
    step = make_sharded_train_step(optimizer, cfg, shardings, batch)
    compiled = step.lower(state0["params"], state0["opt_state"], *data[0]).compile()
    put = lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch))
    state, losses = train(jax.device_put(state0, shardings), compiled, data, put=put)
    return state, losses, compiled, put


@pytest.fixture(scope="session")
def smap(cfg, optimizer, state0, data):
    """Step 05's layout: FSDP with the collectives written in a shard_map."""
    mesh = make_mesh((8,), ("data",))
    shardings, batch = fsdp(mesh, state0), NamedSharding(mesh, P("data"))
    step = make_shard_map_train_step(optimizer, cfg, mesh, shardings)
    compiled = step.lower(state0["params"], state0["opt_state"], *data[0]).compile()
    state, losses = train(jax.device_put(state0, shardings), compiled, data,
                          put=lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch)))
    return state, losses, compiled
