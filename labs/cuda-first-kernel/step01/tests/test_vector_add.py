"""The program compiles with nvcc and its c = a + b matches float64 NumPy."""
import re

import numpy as np
import pytest

from dlc_shared.testing import assert_close
from program import run_program, vector_add


def test_compiles_to_a_program_with_no_gpu_code(built):
    assert built.output.is_file()
    # host code only: ptxas compiles no entry function, so its resource report is empty
    assert built.kernels == [] and not re.search(r"Compiling entry function", built.log)


@pytest.mark.parametrize("n", [1, 7, 1000, 4099])
def test_matches_numpy(built, n):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((2, n), dtype=np.float32)
    assert np.all(a != 0) and np.unique(a).size > n // 2  # fresh random values, not zeros
    c = vector_add(built.output, a, b)
    ref = a.astype(np.float64) + b.astype(np.float64)
    assert_close(c, ref, np.float32)  # one float32 rounding of the exact sum: terms 1, depth 1
