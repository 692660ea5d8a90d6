import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

import sys

import pytest

import run
from cost_model import HARDWARE, Hardware, link_bytes, predict
from hlo import Collective
from mesh import make_mesh

RING = Hardware("ring", 1e14, 5e10, "ring", ())
SWITCH = Hardware("switch", 1e15, 4e11, "switch", ())


def coll(op, operand, result, k):
    return Collective(op, operand, result, k, 1, "")


def test_link_bytes_follow_the_books_ring_and_a_switch():
    v = 8 * 64  # the whole array, k = 8 devices
    ag = coll("all-gather", v // 8, v, 8)
    assert link_bytes(ag, "ring") == 7 / 8 * v / 2 == 224  # (k-1)/k V, half each way round
    assert link_bytes(ag, "switch") == 7 / 8 * v == 448  # all through the device's port
    ar = coll("all-reduce", v, v, 8)
    assert link_bytes(ar, "ring") == 2 * link_bytes(coll("reduce-scatter", v, v // 8, 8), "ring") == 448
    a2a = coll("all-to-all", v // 8, v // 8, 8)
    assert link_bytes(a2a, "ring") == v / 8 == 64  # the book: AllToAll = V / (4 W_bidi) = V / (8 W_one-way)
    assert link_bytes(ag, "ring") / link_bytes(a2a, "ring") == 3.5  # 4 (k-1)/k: 'a quarter of an AllGather'
    assert link_bytes(coll("all-to-all", 10 * 7, 10 * 7, 7), "ring") == (49 - 1) / 8 * 10  # odd k
    cp = coll("collective-permute", 100, 100, 8)
    assert link_bytes(cp, "ring") == link_bytes(cp, "switch") == 100
    assert link_bytes(ag, "ring", scale=0.5) == 112  # bf16 priced from a float32 program


def test_predict_adds_or_overlaps_compute_and_communication():
    p = predict(2e12, [coll("all-gather", 1e8, 4e8, 4)], RING)
    assert p["t_compute"] == 2e12 / 1e14 == 0.02
    assert p["link_bytes"] == 1.5e8 and p["t_comm"] == pytest.approx(1.5e8 / 5e10)  # 3 ms
    assert p["t_serial"] == pytest.approx(0.023) and p["t_overlapped"] == 0.02 and p["bound"] == "compute"
    q = predict(1e9, [coll("all-reduce", 1e8, 1e8, 4)], SWITCH)
    assert q["t_comm"] == pytest.approx(1.5e8 / 4e11) and q["bound"] == "comm"


def test_every_hardware_entry_cites_its_sources():
    for hw in HARDWARE:
        assert hw.topology in ("ring", "switch") and hw.peak_flops > 1e14 and hw.link_bandwidth > 1e10
        assert len(hw.sources) >= 2 and all(s.startswith("https://") for s in hw.sources)


@pytest.fixture(scope="module")
def rows():
    argv, sys.argv = sys.argv, ["run.py", "--cost-ijk", "16", "32", "24"]
    try:
        args = run.parse_args()
    finally:
        sys.argv = argv
    return run.cost_rows(args, make_mesh())


# devices that compute distinct parts of C: case 2 replicates C, so every device does all of it
DISTINCT = {"A[I_X, J] · B[J, K] -> C[I_X, K]": 4, "A[I_X, J] · B[J, K_Y] -> C[I_X, K_Y]": 8,
            "A[I, J_X] · B[J, K] -> C[I, K]": 1, "A[I, J_X] · B[J_X, K] -> C[I, K]": 4,
            "A[I_X, J_Y] · B[J_Y, K] -> C[I_X, K]": 8, "A[I, J_X] · B[J_X, K] -> C[I_X, K]": 4,
            "A[I_X, J] · B[J, K_X] -> C[I_X, K]": 4, "A[I_X, J] · B[J, K_X] -> C[I, K_X] (8 devices)": 8}


def test_flops_and_collectives_come_from_the_compiled_programs(rows):
    i, j, k = 16, 32, 24
    assert len(rows) == 9
    for r in rows:
        matmul = 2 * i * j * k / DISTINCT[r["matmul"]]
        # XLA's cost analysis also counts the elementwise adds of a reduction (I*K per device at most)
        # and a few index computations; the matmul's FLOPs are the floor.
        assert matmul <= r["flops"] <= matmul + i * k + 8, r
    ops = [[c.op for c in r["found"]] for r in rows]
    assert ops[:7] == [[], [], ["all-gather"], ["all-reduce"], ["all-reduce"], ["all-reduce"], ["all-gather"]]
    assert ops[7] == ["all-gather"] and ops[8] == ["collective-permute"] * 7
