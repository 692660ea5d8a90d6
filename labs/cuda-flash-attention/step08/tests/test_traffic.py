"""HBM traffic: the loop counter against its closed form, Dao et al.'s n^2 d^2 / M term, and naive's n^2."""
import pytest

from naive import naive_hbm_elements
from tiling import block_sizes
from traffic import dao_term, flash_io, flash_io_formula, io_table, naive_io


@pytest.mark.parametrize("n,d,br,bc", [(1, 8, 4, 4), (100, 16, 8, 32), (256, 64, 32, 32), (1000, 128, 16, 48)])
def test_the_loop_counter_equals_the_closed_form(n, d, br, bc):
    assert flash_io(n, d, br, bc) == flash_io_formula(n, d, br)  # BC changes how, not how much, is read


def test_naive_traffic_is_the_three_kernels_and_ignores_sram():
    assert sum(naive_io(4096, 64).values()) == naive_hbm_elements(4096, 64)
    assert io_table(4096, 64, 32 * 1024)["naive B"] == io_table(4096, 64, 228 * 1024)["naive B"]


@pytest.mark.parametrize("n,d,m", [(4096, 64, 8192), (4096, 128, 65536), (2048, 64, 16384)])
def test_k_and_v_reads_are_eight_n2_d2_over_m(n, d, m):
    br, _ = block_sizes(4 * m, d)
    assert br == m // (4 * d)  # below the cap BR = d, so BR = M / (4 d) exactly here
    io = flash_io(n, d, br, br)
    assert io["reads"] - n * d == 8 * dao_term(n, d, m)


def test_doubling_sram_halves_the_k_v_reads():
    n, d = 4096, 64
    reads = [flash_io_formula(n, d, block_sizes(kib * 1024, d)[0])["reads"] - n * d for kib in (16, 32, 64, 128)]
    assert [a / b for a, b in zip(reads, reads[1:])] == [2.0, 2.0, 2.0]


def test_the_ratio_grows_with_m_over_d_squared():
    small, large = io_table(4096, 64, 32 * 1024), io_table(4096, 64, 228 * 1024)
    assert round(small["naive / flash"], 2) == 1.01 and round(large["naive / flash"], 2) == 6.84
    # n >> d: naive ~ 4 n^2, flash ~ 8 n^2 d^2 / M, so the ratio approaches M / (2 d^2) = 58368 / 8192
    assert large["naive / flash"] < 58368 / (2 * 64**2) < io_table(2**17, 64, 228 * 1024)["naive / flash"] * 1.05
    assert io_table(4096, 128, 228 * 1024)["naive / flash"] < large["naive / flash"]  # bigger d, smaller gain
