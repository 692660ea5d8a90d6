"""The numbers the README's 풀이 quote, computed with this step's code."""
from matmul import matmul_bytes_ideal, matmul_bytes_naive, matmul_flops


def test_answer_4096_cubed_flops():
    flops = matmul_flops(4096, 4096, 4096)
    assert flops == 2**37 == 137_438_953_472
    assert f"{flops / 989e12 * 1e3:.3f}" == "0.139"  # ms at the H100 datasheet's 989 TFLOP/s, as quoted


def test_answer_gemv_has_n_times_fewer_flops():
    assert matmul_flops(64, 64, 64) == 524_288
    assert matmul_flops(64, 1, 64) == 8_192
    assert matmul_flops(64, 64, 64) == 64 * matmul_flops(64, 1, 64)


def test_answer_bf16_halves_the_bytes():
    assert matmul_bytes_ideal(64, 64, 64, itemsize=4) == 49_152
    assert matmul_bytes_ideal(64, 64, 64, itemsize=2) == 24_576
    for m, n, k in [(64, 64, 64), (64, 1, 64), (7, 5, 3)]:
        assert 2 * matmul_bytes_ideal(m, n, k, 2) == matmul_bytes_ideal(m, n, k, 4)
        assert 2 * matmul_bytes_naive(m, n, k, 2) == matmul_bytes_naive(m, n, k, 4)


def test_answer_4096_cubed_ideal_bytes():
    ideal = matmul_bytes_ideal(4096, 4096, 4096)
    assert ideal == 201_326_592 == 192 * 2**20
    assert f"{ideal / 3.35e12 * 1e6:.1f}" == "60.1"                         # µs at the datasheet's 3.35 TB/s
    assert f"{matmul_flops(4096, 4096, 4096) / 989e12 * 1e6:.0f}" == "139"  # µs at 989 TFLOP/s
    naive = matmul_bytes_naive(4096, 4096, 4096)
    assert f"{naive / 1e9:.0f}" == "550" and f"{naive / 3.35e12:.2f}" == "0.16"  # GB, and seconds to move them
