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


def test_answer_transpose_bytes_and_naive_waste():
    from transpose import transpose_bytes, warp_sectors
    assert transpose_bytes(8192, 8192) == 536_870_912 == 512 * 2**20
    s = warp_sectors(8192, 8192, 0)
    useful = 32 * 4
    assert s["write"] * 32 / useful == 8
    assert (256 + 8 * 256) / 512 == 4.5


def test_answer_padding_passes():
    from transpose import bank_passes, tile_accesses
    for pad, passes in [(1, 1), (2, 2), (4, 4), (3, 1)]:
        assert bank_passes(tile_accesses(pad)["load tile[tx][ty + j]"]) == passes


def test_answer_tile_16():
    import numpy as np
    from matmul import flop_per_global_byte, matmul_tiled_twin, tiled_loads
    n = 4096
    assert 2 * 16 * 16 * 4 == 2_048
    assert tiled_loads(n, n, n, 16) // n**2 == 512 and tiled_loads(n, n, n, 32) // n**2 == 256
    assert flop_per_global_byte(n, n, n, tiled_loads(n, n, n, 16)) == 4.0
    assert flop_per_global_byte(n, n, n, tiled_loads(n, n, n, 32)) == 8.0
    _, loads = matmul_tiled_twin(np.ones((48, 64), np.float32), np.ones((64, 32), np.float32), tile=16)
    assert loads == tiled_loads(48, 32, 64, 16)


def test_answer_k45_steps_and_zero_products():
    steps = -(-45 // 32)
    assert steps == 2 and steps * 32 - 45 == 19


def test_answer_row_major_threads_touch_33_sectors():
    import numpy as np
    from transpose import sectors
    lane, K = np.arange(32), 4096
    before = sectors(lane * 4) + sectors(np.zeros(32, int))   # B row, A broadcast
    after = sectors(lane * K * 4) + sectors(np.zeros(32, int))  # A column, B broadcast
    assert (before, after) == (5, 33)


def test_answer_gemv_bytes():
    from gemv import gemv_bytes, gemv_flops
    assert gemv_bytes(8192, 8192) == 268_500_992
    assert round(gemv_flops(8192, 8192) / gemv_bytes(8192, 8192), 5) == 0.49988


def test_answer_order_examples():
    import numpy as np
    from gemv import gemv_thread_twin, gemv_warp_twin
    for K, far, warp_value in [(64, 32, 62.0), (96, 64, 93.0)]:
        w, x = np.ones((1, K), np.float32), np.ones(K, np.float32)
        w[0, 0], w[0, far] = 1e8, -1e8
        assert gemv_warp_twin(w, x)[0] == warp_value
    w, x = np.ones((1, 64), np.float32), np.ones(64, np.float32)
    w[0, 0], w[0, 32] = 1e8, -1e8
    assert gemv_thread_twin(w, x)[0] == 31.0


def test_answer_idle_lanes_add_zero():
    import numpy as np
    from gemv import gemv_warp_twin
    w = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    x = np.random.default_rng(4).standard_normal(5).astype(np.float32)
    lanes = w * x  # what lanes 0..4 hold; lanes 5..31 hold 0
    tree = ((lanes[:, 0] + lanes[:, 4]) + lanes[:, 2]) + (lanes[:, 1] + lanes[:, 3])  # offsets 4, 2, 1 on lanes 0..4
    assert np.array_equal(gemv_warp_twin(w, x), tree)


def test_answer_elements_per_thread():
    import numpy as np
    from softmax import thread_partials
    counts = thread_partials(np.ones((1, 1000), np.float32), np.add, 0.0)[0]
    assert (counts == 4).sum() == 232 and (counts == 3).sum() == 24
    counts = thread_partials(np.ones((1, 64), np.float32), np.add, 0.0)[0]
    assert (counts == 0).sum() == 192 and 192 / 256 == 0.75


def test_answer_barriers_per_row(built):
    assert built.kernel("softmax_kernel").barriers == 1  # one barrier resource, used by both reductions
    text = open("softmax.cuh").read()
    body = text[text.index("__global__ void softmax_kernel"):]
    body = body[:body.index("\n}\n")]  # the kernel's body only
    assert body.count("__syncthreads()") == 2


def test_answer_plus_minus_1000():
    import numpy as np
    from softmax import softmax_twin
    x = np.array([[1000.0, 1000.0, -1000.0]], np.float32)
    assert softmax_twin(x).tolist() == [[0.5, 0.5, 0.0]]
    naive = softmax_twin(x, subtract_max=False)[0]
    assert np.isnan(naive[:2]).all() and naive[2] == 0.0


def test_answer_rstd_bytes():
    assert 4096 * 4 == 16_384 and 4096**2 * 4 == 67_108_864 == 4096 * 16_384


def test_answer_forward_bytes_and_the_second_read():
    from rmsnorm import rmsnorm_bytes
    n = 4096
    counted = rmsnorm_bytes(n, n)["forward"]
    assert counted == 134_250_496
    assert counted + 4 * n * n == 201_359_360 and round((counted + 4 * n * n) / counted, 2) == 1.5
    assert round(100 * counted / (counted + 4 * n * n)) == 67


def test_answer_twin_on_the_hand_example():
    import numpy as np
    from rmsnorm import rmsnorm_forward_twin
    y, rstd = rmsnorm_forward_twin(np.array([[3.0, 4.0]]), np.ones(2), eps=0.0)
    assert round(float(rstd[0]), 5) == 0.28284
    assert np.round(y, 5).tolist() == [[0.84853, 1.13137]]


def test_answer_dw_blocks():
    assert -(-4096 // 256) == 16 and 16 * 64 == 1024


def test_answer_backward_twin_on_the_hand_example():
    import numpy as np
    from rmsnorm import rmsnorm_backward_twin, rmsnorm_forward_twin
    x, w, dy = np.array([[3.0, 4.0]]), np.ones(2), np.array([[1.0, 0.0]])
    _, rstd = rmsnorm_forward_twin(x, w, eps=0.0)
    dx, dw = rmsnorm_backward_twin(dy, x, w, rstd)
    assert round(float(rstd[0]) ** 3 / 2 * 3, 6) == 0.033941
    assert np.round(dx, 5).tolist() == [[0.18102, -0.13576]]
    assert np.round(dw, 5).tolist() == [0.84853, 0.0]


def test_answer_softmax_backward_by_hand_and_bytes():
    import numpy as np
    from softmax import softmax_backward_bytes, softmax_backward_twin
    dx = softmax_backward_twin(np.array([[1.0, 0.0, 0.0]]), np.array([[0.5, 0.5, 0.0]]))
    assert dx.tolist() == [[0.25, -0.25, 0.0]] and dx.sum() == 0.0
    assert softmax_backward_bytes(8192, 8192) == 805_306_368 == 3 * 4 * 8192**2
    assert round(805_306_368 / 1_342_177_280 * 100) == 60
    assert 5 * 4 * 8192**2 == 1_342_177_280  # if every read hit DRAM: dy and y twice, plus writing dx
