"""The NumPy mirror of the kernel's grid: every i exactly once, and what the bounds check prevents."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close
from simulate import global_index, grid_size, vector_add_grid


@pytest.mark.parametrize("n,block", [(1, 256), (255, 256), (256, 256), (257, 256), (1000, 32), (1000, 1024),
                                     (999, 7)])
def test_every_index_written_exactly_once(n, block):
    a, b = np.random.default_rng(n).standard_normal((2, n), dtype=np.float32)
    c, writes, _ = vector_add_grid(a, b, block)
    assert np.all(writes == 1)
    assert_close(c, a.astype(np.float64) + b, np.float32)  # one float32 rounding of the exact sum


@pytest.mark.parametrize("n,block", [(1000, 256), (1024, 256), (1, 1024)])
def test_without_bounds_check_the_last_block_writes_past_the_end(n, block):
    a = np.ones(n, dtype=np.float32)
    _, _, stray = vector_add_grid(a, a, block, bounds_check=False)
    assert stray == -n % block  # the idle tail of the last block: (-n) mod block threads


def test_grid_and_index_formulas():
    assert [grid_size(n, 256) for n in (1, 256, 257, 1000)] == [1, 1, 2, 4]
    # block 2 of 256 threads starts at element 512: blocks tile the vector in order
    assert global_index(2, np.arange(256), 256).tolist() == list(range(512, 768))
