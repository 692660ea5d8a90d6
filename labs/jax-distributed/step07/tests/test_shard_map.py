"""FSDP written with shard_map and explicit collectives trains like one device."""
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from parallel import make_mesh

N = 8


def test_the_collectives_by_hand():
    # all_gather(tiled) puts the 8 slices back in order; psum_scatter(tiled) sums over devices
    # and leaves device i with slice i of the sum; psum leaves everyone the whole sum.
    mesh = make_mesh((N,), ("data",))
    x = jnp.arange(N * 2 * 3, dtype=jnp.float32).reshape(N * 2, 3)

    def per_device(block):  # block: this device's (2, 3) rows
        gathered = jax.lax.all_gather(block, "data", axis=0, tiled=True)  # (16, 3) everywhere
        idx = jax.lax.axis_index("data").astype(jnp.float32)
        scattered = jax.lax.psum_scatter(gathered * (idx + 1), "data", scatter_dimension=0, tiled=True)
        return gathered[None], scattered, jax.lax.psum(block, "data")

    gathered, scattered, summed = jax.jit(jax.shard_map(
        per_device, mesh=mesh, in_specs=P("data"), out_specs=(P("data"), P("data"), P())))(x)
    x64 = np.asarray(x, np.float64)
    for i in range(N):
        np.testing.assert_array_equal(gathered[i], x64)
    np.testing.assert_array_equal(scattered, x64 * sum(range(1, N + 1)))  # sum of (i + 1) * x over devices
    np.testing.assert_array_equal(summed, x64.reshape(N, 2, 3).sum(axis=0))
