import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close
from jax.sharding import NamedSharding, PartitionSpec as P

from collectives import all_reduce, all_reduce_in_two_steps, book_bytes, reduce_scatter
from hlo import collectives, compiled_text
from mesh import make_mesh


@pytest.fixture(scope="module")
def mesh():
    return make_mesh((4, 2), ("X", "Y"))


def terms(mesh, axes, shape=(8, 16)):
    k = int(np.prod([mesh.shape[a] for a in axes]))
    s = np.random.default_rng(k).standard_normal((k, *shape)).astype(np.float32)
    return k, s, jax.device_put(s, NamedSharding(mesh, P(tuple(axes), None, None)))


@pytest.mark.parametrize("axes,groups", [("X", 2), ("XY", 1)])
def test_reduce_scatter_sums_and_leaves_one_slice_per_device(mesh, axes, groups):
    k, s, dev = terms(mesh, axes)
    fn = reduce_scatter(mesh, axes)
    y = fn(dev)
    expected = s.astype(np.float64).sum(0)
    assert_close(y, expected, np.float32, terms=k)  # k terms summed in float32
    assert y.addressable_shards[0].data.shape == (8 // k, 16)
    (c,) = collectives(compiled_text(fn, dev))
    assert (c.op, c.group_size, c.n_groups) == ("reduce-scatter", k, groups)
    v = s[0].nbytes
    assert c.operand_bytes == v and c.result_bytes == v // k
    assert c.bytes_sent == book_bytes("reduce-scatter", v, k) == (k - 1) * v / k


@pytest.mark.parametrize("axes,groups", [("X", 2), ("XY", 1)])
def test_all_reduce_gives_every_device_the_sum(mesh, axes, groups):
    k, s, dev = terms(mesh, axes)
    expected = s.astype(np.float64).sum(0)
    one = all_reduce(mesh, axes)
    y = one(dev)
    assert_close(y, expected, np.float32, terms=k)
    for shard in y.addressable_shards:  # every device holds all of it
        assert_close(shard.data, expected, np.float32, terms=k)
    (c,) = collectives(compiled_text(one, dev))
    assert (c.op, c.group_size, c.n_groups) == ("all-reduce", k, groups)
    v = s[0].nbytes
    assert c.bytes_sent == book_bytes("all-reduce", v, k) == 2 * (k - 1) * v / k


@pytest.mark.parametrize("axes", ["X", "XY"])
def test_all_reduce_is_reduce_scatter_then_all_gather(mesh, axes):
    k, s, dev = terms(mesh, axes)
    two = all_reduce_in_two_steps(mesh, axes)
    assert_close(two(dev), s.astype(np.float64).sum(0), np.float32, terms=k)
    found = collectives(compiled_text(two, dev))
    assert [c.op for c in found] == ["reduce-scatter", "all-gather"]
    assert sum(c.bytes_sent for c in found) == book_bytes("all-reduce", s[0].nbytes, k)


def test_a_sum_that_forgets_the_reduction_fails_the_check(mesh):
    """The tolerance is tight enough to catch one device's term standing in for the sum."""
    k, s, dev = terms(mesh, "X")
    with pytest.raises(AssertionError):
        assert_close(s[0], s.astype(np.float64).sum(0), np.float32, terms=k)
