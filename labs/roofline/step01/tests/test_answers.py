"""The numbers the README's 풀이 quote, computed with this step's code."""
from matmul import matmul_flops


def test_answer_4096_cubed_flops():
    flops = matmul_flops(4096, 4096, 4096)
    assert flops == 2**37 == 137_438_953_472
    assert f"{flops / 989e12 * 1e3:.3f}" == "0.139"  # ms at the H100 datasheet's 989 TFLOP/s, as quoted


def test_answer_gemv_has_n_times_fewer_flops():
    assert matmul_flops(64, 64, 64) == 524_288
    assert matmul_flops(64, 1, 64) == 8_192
    assert matmul_flops(64, 64, 64) == 64 * matmul_flops(64, 1, 64)
