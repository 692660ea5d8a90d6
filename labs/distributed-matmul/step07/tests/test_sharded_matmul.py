import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close
from jax.sharding import NamedSharding

from hlo import collectives, compiled_text
from mesh import make_mesh
from notation import parse, shard
from sharded_matmul import CASES, CPU_CHOICES, book_comms, label, matmul_reduce_scatter, sharded_matmul

SIZES = {"I": 16, "J": 32, "K": 24}


@pytest.fixture(scope="module")
def mesh():
    return make_mesh((4, 2), ("X", "Y"))


@pytest.fixture(scope="module")
def operands():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((SIZES["I"], SIZES["J"])).astype(np.float32)
    b = rng.standard_normal((SIZES["J"], SIZES["K"])).astype(np.float32)
    return a, b, a.astype(np.float64) @ b


@pytest.mark.parametrize("case", CASES, ids=label)
def test_each_case_computes_a_times_b_with_the_predicted_collectives(mesh, operands, case):
    a, b, ref = operands
    fn, xa, xb = sharded_matmul(mesh, case), shard(a, case.a, mesh), shard(b, case.b, mesh)
    y = fn(xa, xb)
    assert np.std(ref) > 1  # varied values
    assert_close(y, ref, np.float32, terms=SIZES["J"])  # one dot product of J terms per output, in float32
    assert y.sharding.is_equivalent_to(NamedSharding(mesh, parse(case.c, mesh)[2]), 2)
    expected = case.comms
    if jax.default_backend() == "cpu":
        expected = CPU_CHOICES.get((case.a, case.b, case.c), expected)
    found = collectives(compiled_text(fn, xa, xb))
    # the compiler inserted exactly the predicted collectives, no other
    assert [f.op for f in found] == [op for op, _, _ in expected]
    predicted = book_comms(mesh, expected, SIZES)
    assert [(f.op, f.group_size, f.bytes_sent) for f in found] == predicted


def test_case_3_to_a_sharded_result_by_hand_is_one_reduce_scatter(mesh, operands):
    a, b, ref = operands
    fn, xa, xb = matmul_reduce_scatter(mesh), shard(a, "A[I, J_X]", mesh), shard(b, "B[J_X, K]", mesh)
    y = fn(xa, xb)
    assert_close(y, ref, np.float32, terms=SIZES["J"])
    assert y.addressable_shards[0].data.shape == (SIZES["I"] // 4, SIZES["K"])
    found = collectives(compiled_text(fn, xa, xb))
    assert [(f.op, f.group_size, f.bytes_sent) for f in found] == [("reduce-scatter", 4, 3 * 16 * 24 * 4 / 4)]
    # half of what the compiler's all-reduce for the same case sends
    (rs,) = book_comms(mesh, (("reduce-scatter", "C[I, K]", "X"),), SIZES)
    (ar,) = book_comms(mesh, CPU_CHOICES[("A[I, J_X]", "B[J_X, K]", "C[I_X, K]")], SIZES)
    assert 2 * rs[2] == ar[2]


def test_the_book_bytes_of_the_cases(mesh):
    """Hand-checked: (k-1)/k of the gathered operand, 2(k-1)/k of the reduced result."""
    assert book_comms(mesh, (("all-gather", "A[I, J]", "X"),), SIZES) == [("all-gather", 4, 3 / 4 * 16 * 32 * 4)]
    assert book_comms(mesh, (("all-reduce", "C[I, K]", "X"),), SIZES) == [("all-reduce", 4, 2 * 3 / 4 * 16 * 24 * 4)]
    assert book_comms(mesh, (("all-reduce", "C[I_X, K]", "Y"),), SIZES) == [("all-reduce", 2, 2 * 1 / 2 * 4 * 24 * 4)]
    assert book_comms(mesh, (("all-gather", "B[J, K]", "X"),), SIZES) == [("all-gather", 4, 3 / 4 * 32 * 24 * 4)]


def test_a_wrong_reduction_fails_the_numeric_check(operands):
    a, b, ref = operands
    partial = a[:, :8].astype(np.float64) @ b[:8]  # one device's term, never reduced
    with pytest.raises(AssertionError):
        assert_close(partial, ref, np.float32, terms=SIZES["J"])
