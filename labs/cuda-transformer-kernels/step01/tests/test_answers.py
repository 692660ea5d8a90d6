"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

import reference as ref


def test_answer_rmsnorm_dx_by_hand():
    x, w, dy = np.array([[3.0, 4.0]]), np.ones(2), np.array([[1.0, 0.0]])
    _, rstd = ref.rmsnorm(x, w, eps=0.0)
    assert round(float(rstd[0]), 5) == 0.28284
    dx, _ = ref.rmsnorm_backward(x, w, dy, eps=0.0)
    assert np.round(dx, 5).tolist() == [[0.18102, -0.13576]]
    assert abs(float(dx[0] @ x[0])) < 1e-15  # scale invariance: no gradient along x


def test_answer_expf_overflow():
    assert round(float(np.log(np.finfo(np.float32).max)), 2) == 88.72
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([100.0, 99.0], dtype=np.float32))
        assert np.isnan(e / e.sum()).all()
    assert np.round(ref.softmax([100.0, 99.0]), 4).tolist() == [0.7311, 0.2689]
