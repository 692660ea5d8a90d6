"""2D and 3D grids: the mirror covers every element once with row-major offsets; the program matches NumPy."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close, gpu
from program import grid_add
from simulate import add_grid_nd, linear_index, thread_coords

SHAPES = [((1, 1), (32, 8)), ((37, 70), (32, 8)), ((8, 32), (32, 8)), ((3, 5, 33), (32, 4, 2)),
          ((5, 9, 40), (32, 4, 2)), ((2, 3, 4), (2, 2, 2))]


@pytest.mark.parametrize("shape,block", SHAPES)
def test_mirror_writes_every_element_once(shape, block):
    a, b = np.random.default_rng(sum(shape)).standard_normal((2, *shape), dtype=np.float32)
    c, writes = add_grid_nd(a, b, block)
    assert np.all(writes == 1)
    assert_close(c, a.astype(np.float64) + b, np.float32)  # one float32 rounding of the exact sum


@pytest.mark.parametrize("shape,block", SHAPES)
def test_kernel_offset_is_numpys_row_major_offset(shape, block):
    for xyz in thread_coords(shape, block):
        xyz = xyz[np.all(xyz < np.asarray(shape[::-1]), axis=1)]
        assert np.array_equal(linear_index(xyz, shape), np.ravel_multi_index(tuple(xyz[:, ::-1].T), shape))


def test_resource_report_has_both_kernels(built_grid):
    names = {k.name for k in built_grid.kernels}
    assert names == {"add_2d", "add_3d"}
    assert all(0 < k.registers <= 32 and not k.spills for k in built_grid.kernels)


@gpu
@pytest.mark.parametrize("shape", [(1, 1), (37, 70), (1000, 33), (3, 5, 33), (17, 9, 130)])
def test_matches_numpy(built_grid, shape):
    a, b = np.random.default_rng(sum(shape)).standard_normal((2, *shape), dtype=np.float32)
    assert np.all(a != 0)
    c = grid_add(built_grid.output, a, b)
    assert_close(c, a.astype(np.float64) + b, np.float32)  # one float32 rounding of the exact sum
