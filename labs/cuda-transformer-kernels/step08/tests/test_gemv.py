"""The GEMV twins against the float64 reference, the lanes' addition order, and the kernels' resources."""
import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close
from gemv import gemv_thread_twin, gemv_warp_twin, lane_partials, shfl_down, warp_read_sectors


@pytest.mark.parametrize("M,K", [(1, 1), (8, 31), (5, 33), (64, 1000)])
def test_warp_twin_matches_the_reference(M, K):
    rng = np.random.default_rng(M * K)
    W, x = rng.standard_normal((M, K)).astype(np.float32), rng.standard_normal(K).astype(np.float32)
    y = gemv_warp_twin(W, x)
    assert y.dtype == np.float32 and (M == 1 or np.ptp(y) > 0)
    assert_close(y, ref.gemv(W, x), np.float32, terms=K, scale=float((np.abs(W) @ np.abs(x)).max()))
    assert_close(gemv_thread_twin(W, x), ref.gemv(W, x), np.float32, terms=K,
                 scale=float((np.abs(W) @ np.abs(x)).max()))


def test_each_product_lands_in_one_lane():
    K = 70  # lanes 0..5 get three products, lanes 6..31 two
    partial = lane_partials(np.ones((1, K)), np.ones(K))[0]
    assert partial.tolist() == [3.0] * 6 + [2.0] * 26


def test_shfl_down_reads_the_lane_delta_above_or_keeps_its_own():
    v = np.arange(32)
    assert shfl_down(v, 4)[:3].tolist() == [4, 5, 6] and shfl_down(v, 4)[30] == 30


def test_the_order_decides_what_survives_rounding():
    # float32 1e8 has a spacing of 8: 1e8 + 1 == 1e8. Row: 1e8 at k=0, -1e8 at k=32, ones elsewhere.
    K = 64
    w = np.ones((1, K), np.float32)
    w[0, 0], w[0, 32] = 1e8, -1e8
    x = np.ones(K, np.float32)
    # warp: lane 0 adds k=0 and k=32 first (exactly 0); the other 62 ones are added exactly
    assert gemv_warp_twin(w, x)[0] == 62.0 == ref.gemv(w, x)[0]
    # left to right: the 31 ones after 1e8 are lost, the 31 after -1e8 survive
    assert gemv_thread_twin(w, x)[0] == 31.0


def test_a_warp_per_row_reads_coalesced():
    assert warp_read_sectors(4096, 0) == 32 and warp_read_sectors(4096, 1) == 4


def test_gemv_kernels_need_no_shared_memory(built):
    for name in ("gemv_thread_kernel", "gemv_warp_kernel"):
        k = built.kernel(name)
        assert k.shared_bytes == 0 and k.barriers == 0 and not k.spills  # shuffles replace shared memory
        assert 0 < k.registers <= 32
