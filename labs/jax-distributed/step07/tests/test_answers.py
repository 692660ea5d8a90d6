"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import jax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from model import Config, init_params
from parallel import fsdp, make_mesh


def test_answer_rows_per_process():
    # Two processes with 4 devices each: process p owns devices 4p .. 4p + 3 of the mesh.
    mesh = make_mesh((8,), ("data",))
    owner = {d: i // 4 for i, d in enumerate(mesh.devices.flat)}
    batch = NamedSharding(mesh, P("data")).devices_indices_map((16, 64))
    rows = {0: set(), 1: set()}
    for dev, (r, _) in batch.items():
        rows[owner[dev]] |= set(range(*r.indices(16)[:2]))
    assert rows == {0: set(range(0, 8)), 1: set(range(8, 16))}
    params = jax.eval_shape(lambda k: init_params(k, Config()), jax.random.key(0))
    wq = fsdp(mesh, params)["layers"][0]["wq"].devices_indices_map((64, 64))
    wq_rows = {0: set(), 1: set()}
    for dev, (r, _) in wq.items():
        wq_rows[owner[dev]] |= set(range(*r.indices(64)[:2]))
    assert wq_rows == {0: set(range(0, 32)), 1: set(range(32, 64))}
    assert 32 * 64 * 4 == 8_192


def test_answer_allgathered_bytes():
    n = 354_624
    assert n * 4 == 1_418_496
    assert n * 4 // 2 == 709_248
