"""The numbers the README's 풀이 quote, computed with this step's code."""
import mesh as mesh_module  # noqa: F401  (sets XLA_FLAGS first)

from collectives import book_bytes
from mesh import make_mesh
from notation import copies, device_slices, local_shape, parse


def test_answer_local_shape_and_copies():
    m = make_mesh()
    spec = parse("A[I, J_Y]", m)[2]
    assert local_shape((8, 16), spec, m) == (8, 8)
    assert 8 * 8 * 4 == 256 and copies(spec, m, 2) == 4 and 256 * 8 == 2048 == 4 * 512


def test_answer_which_block_device_5_holds():
    m = make_mesh()
    assert device_slices((8, 16), parse("A[I_XY, J]", m)[2], m)[5][0] == slice(5, 6)
    assert device_slices((8, 16), parse("A[I_YX, J]", m)[2], m)[5][0] == slice(6, 7)


def test_answer_gather_bytes():
    assert book_bytes("all-gather", 512, 4) == 384
    assert book_bytes("all-gather", 512, 8) == 448
    assert book_bytes("all-gather", 128, 2) == 64


def test_answer_reduce_bytes():
    assert book_bytes("reduce-scatter", 512, 4) == 384
    assert book_bytes("all-reduce", 512, 4) == 768 == 2 * book_bytes("reduce-scatter", 512, 4)
    assert book_bytes("all-reduce", 512, 8) == 896


def test_answer_all_to_all_bytes():
    assert book_bytes("all-to-all", 128, 4) == 96
    assert book_bytes("all-to-all", 64, 8) == 56
    assert book_bytes("all-gather", 512, 4) / book_bytes("all-to-all", 128, 4) == 4


def test_answer_matmul_case_bytes():
    import mesh  # noqa: F401
    from mesh import make_mesh
    from sharded_matmul import book_comms
    m, sizes = make_mesh(), {"I": 16, "J": 32, "K": 24}
    assert book_comms(m, (("all-gather", "A[I, J]", "X"),), sizes) == [("all-gather", 4, 1536)]
    assert book_comms(m, (("all-reduce", "C[I, K]", "X"),), sizes) == [("all-reduce", 4, 2304)]
    assert book_comms(m, (("reduce-scatter", "C[I, K]", "X"),), sizes) == [("reduce-scatter", 4, 1152)]
    assert book_comms(m, (("all-gather", "B[J, K]", "X"),), sizes) == [("all-gather", 4, 2304)]


def test_answer_cost_table():
    from cost_model import HARDWARE, link_bytes, predict
    from hlo import Collective
    tpu, nvlink, ib = HARDWARE
    a_bytes = 8192 * 8192 * 2
    assert a_bytes == 134_217_728
    # case 2: the float32 program gathers A over k = 4; priced at 2 bytes per element
    ag = Collective("all-gather", 8192 * 8192 * 4 // 4, 8192 * 8192 * 4, 4, 2, "")
    assert ag.bytes_sent * 0.5 == 100_663_296
    assert link_bytes(ag, "ring", 0.5) == 50_331_648
    p = predict(2 * 8192 * 8192 * 32768, [ag], tpu, 0.5)
    assert round(p["t_comm"] * 1e6) == 1118 and round(p["t_compute"] * 1e6) == 22325
    assert round(a_bytes / 9e10 * 1e6) == 1491
    # collective matmul on 8 devices: 7 one-way shifts of a (1024, 8192) block, against the all-gather
    cp = Collective("collective-permute", 1024 * 8192 * 4, 1024 * 8192 * 4, 8, 1, "")
    ag8 = Collective("all-gather", 1024 * 8192 * 4, 8192 * 8192 * 4, 8, 1, "")
    assert round(7 * link_bytes(cp, "ring", 0.5) / 1e6, 1) == 117.4
    assert round(link_bytes(ag8, "ring", 0.5) / 1e6, 1) == 58.7
    # case 3 on H100: the all-reduce of C through one port
    ar = Collective("all-reduce", 8192 * 32768 * 4, 8192 * 32768 * 4, 4, 2, "")
    assert link_bytes(ar, "switch", 0.5) == 805_306_368
    t_nv = predict(0, [ar], nvlink, 0.5)["t_comm"]
    t_ib = predict(0, [ar], ib, 0.5)["t_comm"]
    assert round(t_nv * 1e6) == 1790 and round(t_ib * 1e6) == 16106 and round(t_ib / t_nv, 6) == 9
