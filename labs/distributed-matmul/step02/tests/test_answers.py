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
