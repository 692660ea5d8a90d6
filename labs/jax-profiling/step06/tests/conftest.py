"""Fixtures shared by this step's tests: a tiny config, seeded parameters and a batch."""
import jax
import pytest
from dlc_shared.data import cache_dir

from model import Config
from train import init_state, make_optimizer, random_batch

# Compiling XLA programs is most of this suite's time. Keep them on disk so that the next
# run, and the next step (which compiles mostly the same programs), reuses them.
jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax-compile"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


@pytest.fixture(scope="session")
def cfg():
    return Config(vocab_size=97, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, max_seq_len=32)


@pytest.fixture(scope="session")
def optimizer():
    return make_optimizer()


@pytest.fixture(scope="session")
def state(cfg, optimizer):
    return init_state(jax.random.key(0), cfg, optimizer)


@pytest.fixture(scope="session")
def batch(cfg):
    return random_batch(jax.random.key(1), cfg, 2, 8)
