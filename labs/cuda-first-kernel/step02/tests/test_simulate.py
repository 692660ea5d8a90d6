"""The NumPy mirror of the kernel's thread loop: every i exactly once, and the sum matches float64."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close
from simulate import thread_indices, vector_add_threads


@pytest.mark.parametrize("n,threads", [(1, 256), (255, 256), (256, 256), (1000, 256), (1000, 3)])
def test_every_index_written_exactly_once(n, threads):
    a, b = np.random.default_rng(n).standard_normal((2, n), dtype=np.float32)
    c, writes = vector_add_threads(a, b, threads)
    assert np.all(writes == 1)
    assert_close(c, a.astype(np.float64) + b, np.float32)  # one float32 rounding of the exact sum


def test_thread_stride_is_the_block_size():
    assert thread_indices(3, 256, 1000).tolist() == [3, 259, 515, 771]
    assert sum(thread_indices(t, 256, 1000).size for t in range(256)) == 1000
