import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import numpy as np
import pytest
from jax.sharding import NamedSharding

from collectives import all_gather, all_to_all, book_bytes
from hlo import collectives, compiled_text
from mesh import make_mesh
from notation import local_shape, parse, shard

CASES = [  # (input, axes, to_dim, result, k)
    ("A[I_X, J]", "X", 1, "A[I, J_X]", 4),
    ("A[I, J_X]", "X", 0, "A[I_X, J]", 4),
    ("A[I_XY, J]", "XY", 1, "A[I, J_XY]", 8),
    ("A[I, J_YX]", "X", 0, "A[I_X, J_Y]", 4),
]


@pytest.fixture(scope="module")
def mesh():
    return make_mesh((4, 2), ("X", "Y"))


@pytest.mark.parametrize("notation,axes,to_dim,result,k", CASES)
def test_all_to_all_moves_the_subscript_and_sends_k_minus_1_pieces(mesh, notation, axes, to_dim, result, k):
    x = np.random.default_rng(1).standard_normal((8, 16)).astype(np.float32)
    fn, out = all_to_all(mesh, notation, axes, to_dim)
    assert out == result
    y = fn(shard(x, notation, mesh))
    np.testing.assert_array_equal(np.asarray(y), x)  # the same array, laid out differently
    assert y.sharding.is_equivalent_to(NamedSharding(mesh, parse(result, mesh)[2]), 2)
    for s in y.addressable_shards:
        np.testing.assert_array_equal(np.asarray(s.data), x[s.index])
    found = collectives(compiled_text(fn, shard(x, notation, mesh)))
    assert [c.op for c in found] == ["all-to-all"]
    (c,) = found
    v = int(np.prod(local_shape(x.shape, parse(notation, mesh)[2], mesh))) * 4  # one device's block
    assert c.group_size == k and c.operand_bytes == c.result_bytes == v
    assert c.bytes_sent == book_bytes("all-to-all", v, k) == (k - 1) * v / k


def test_all_to_all_sends_a_kth_of_what_an_all_gather_sends(mesh):
    """Per device, on the same axis: AllToAll_X A[I_X, J] sends (k-1)/k of a block; AllGather_X (k-1) blocks."""
    x = shard(np.zeros((8, 16), np.float32), "A[I_X, J]", mesh)
    a2a, _ = all_to_all(mesh, "A[I_X, J]", "X", 1)
    ag, _ = all_gather(mesh, "A[I_X, J]", "X")
    (c_a2a,) = collectives(compiled_text(a2a, x))
    (c_ag,) = collectives(compiled_text(ag, x))
    assert c_ag.bytes_sent == 4 * c_a2a.bytes_sent


@pytest.mark.parametrize("notation,to_dim", [("A[I_X, J_Y]", 1), ("A[I_X, J]", 0), ("A[I_X, J]", 2)])
def test_the_subscript_moves_only_to_an_unsharded_dimension(mesh, notation, to_dim):
    with pytest.raises(ValueError, match="unsharded"):
        all_to_all(mesh, notation, "X", to_dim)
