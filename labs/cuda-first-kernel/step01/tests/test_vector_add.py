"""The program compiles with nvcc and its c = a + b matches float64 NumPy."""
import numpy as np
import pytest

from program import run_program, vector_add


def test_compiles_for_hopper(built):
    assert built.output.is_file()
    assert built.arch.startswith("sm_")


@pytest.mark.parametrize("n", [1, 7, 1000, 4099])
def test_matches_numpy(built, n):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((2, n), dtype=np.float32)
    assert np.all(a != 0) and np.unique(a).size > n // 2  # fresh random values, not zeros
    c = vector_add(built.output, a, b)
    ref = a.astype(np.float64) + b.astype(np.float64)
    # one float32 rounding of the exact sum: within half an ulp of |ref|
    np.testing.assert_allclose(c, ref, rtol=np.finfo(np.float32).eps, atol=1e-30)
