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
