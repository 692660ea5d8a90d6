import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import re

import numpy as np
import pytest
from dlc_shared.testing import assert_close

from collective_matmul import collective_matmul, matmul_all_gather
from collectives import book_bytes
from hlo import collectives, compiled_text
from mesh import make_mesh
from notation import shard


@pytest.fixture(scope="module", params=[(8,), (4, 2)], ids=["8", "4x2"])
def mesh(request):
    return make_mesh(request.param, ("X", "Y")[: len(request.param)])


@pytest.fixture(scope="module")
def operands():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 32)).astype(np.float32)
    b = rng.standard_normal((32, 24)).astype(np.float32)
    return a, b, a.astype(np.float64) @ b


def test_both_forms_compute_a_times_b(mesh, operands):
    a, b, ref = operands
    xa, xb = shard(a, "A[I_X, J]", mesh), shard(b, "B[J, K_X]", mesh)
    for fn in (matmul_all_gather(mesh), collective_matmul(mesh)):
        y = fn(xa, xb)
        assert_close(y, ref, np.float32, terms=32)  # J = 32 terms per output in float32
        assert y.addressable_shards[0].data.shape == (16, 24 // mesh.shape["X"])


def test_the_collective_matmul_moves_the_all_gathers_bytes_as_k_minus_1_neighbour_shifts(mesh, operands):
    a, b, _ = operands
    k = mesh.shape["X"]
    xa, xb = shard(a, "A[I_X, J]", mesh), shard(b, "B[J, K_X]", mesh)
    gathered = collectives(compiled_text(matmul_all_gather(mesh), xa, xb), 8)
    assert [c.op for c in gathered] == ["all-gather"]
    shifted = collectives(compiled_text(collective_matmul(mesh), xa, xb), 8)
    assert [c.op for c in shifted] == ["collective-permute"] * (k - 1)  # no all-gather left
    assert sum(c.bytes_sent for c in shifted) == gathered[0].bytes_sent == book_bytes("all-gather", a.nbytes, k)
    # every step sends each device's A block (I/k rows) to its neighbour on the X ring
    for c in shifted:
        assert c.operand_bytes == a.nbytes // k
        pairs = {(int(s), int(t)) for s, t in re.findall(r"\{(\d+),(\d+)\}", c.line.split("source_target_pairs=")[1])}
        x_of = {d.id: i for i, row in enumerate(np.asarray(mesh.devices).reshape(k, -1)) for d in row}  # X coordinate
        assert len(pairs) == mesh.size
        assert all(x_of[t] == (x_of[s] - 1) % k for s, t in pairs)
