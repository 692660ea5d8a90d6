"""Fixtures shared by this step's tests: a tiny config and seeded parameters."""
import jax
import pytest
from dlc_shared.data import cache_dir

from model import Config, init_params

# Compiling XLA programs is most of this suite's time. Keep them on disk so that the next
# run, and the next step (which compiles mostly the same programs), reuses them.
jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax-compile"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


@pytest.fixture(scope="session")
def cfg():
    return Config(vocab_size=97, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, max_seq_len=32)


@pytest.fixture(scope="session")
def params(cfg):
    params = jax.jit(init_params, static_argnums=1)(jax.random.key(0), cfg)  # one program, not one per op
    # Norm weights start at 1, where a missing or misplaced weight cannot show: randomize them.
    keys = iter(jax.random.split(jax.random.key(9), 2 * cfg.n_layers + 1))
    scale = lambda w: 1 + 0.3 * jax.random.normal(next(keys), w.shape)
    for layer in params["layers"]:
        layer["attn_norm"], layer["mlp_norm"] = scale(layer["attn_norm"]), scale(layer["mlp_norm"])
    params["final_norm"] = scale(params["final_norm"])
    return params
