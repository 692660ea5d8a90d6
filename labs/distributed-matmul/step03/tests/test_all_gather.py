import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import numpy as np
import pytest
from jax.sharding import NamedSharding

from collectives import all_gather, book_bytes
from hlo import collectives, compiled_text
from mesh import make_mesh
from notation import local_shape, parse, shard

CASES = [  # (input, axes, result, k, number of groups)
    ("A[I_X, J]", "X", "A[I, J]", 4, 2),
    ("A[I_X, J_Y]", "Y", "A[I_X, J]", 2, 4),
    ("A[I_XY, J]", "Y", "A[I_X, J]", 2, 4),
    ("A[I_XY, J]", "XY", "A[I, J]", 8, 1),
    ("A[I, J_YX]", "X", "A[I, J_Y]", 4, 2),
]


@pytest.fixture(scope="module")
def mesh():
    return make_mesh((4, 2), ("X", "Y"))


@pytest.mark.parametrize("notation,axes,result,k,groups", CASES)
def test_all_gather_values_and_bytes_from_the_compiled_program(mesh, notation, axes, result, k, groups):
    x = np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32)
    fn, out = all_gather(mesh, notation, axes)
    assert out == result
    y = fn(shard(x, notation, mesh))
    np.testing.assert_array_equal(np.asarray(y), x)  # moving data is exact
    assert y.sharding.is_equivalent_to(NamedSharding(mesh, parse(result, mesh)[2]), 2)
    found = collectives(compiled_text(fn, shard(x, notation, mesh)))
    assert [c.op for c in found] == ["all-gather"]  # one collective, and no other
    (c,) = found
    assert (c.group_size, c.n_groups) == (k, groups)
    v = int(np.prod(local_shape(x.shape, parse(result, mesh)[2], mesh))) * 4  # the gathered block, from the notation
    assert c.result_bytes == v and c.operand_bytes == v // k
    assert c.bytes_sent == book_bytes("all-gather", v, k) == (k - 1) * v / k


def test_gathering_an_axis_that_is_not_the_minor_one_is_refused(mesh):
    with pytest.raises(ValueError, match="sharded over X"):
        all_gather(mesh, "A[I_XY, J]", "X")
