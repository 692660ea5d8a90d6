"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

from memory import time_at_peak
from simulate import grid_size, vector_add_grid


def test_answer_transfer_share_over_100_kernels():
    t = time_at_peak(10**6)
    transfers = t["host->device (a, b)"] + t["device->host (c)"]
    kernel = t["kernel (read a, b; write c)"]
    assert f"{transfers * 1e6:.1f}" == "187.5" and f"{100 * kernel * 1e6:.1f}" == "358.2"
    assert f"{100 * transfers / (transfers + 100 * kernel):.0f}" == "34"
    assert f"{100 * transfers / (transfers + kernel):.0f}" == "98"


def test_answer_grid_for_2_to_31_plus_5():
    blocks = grid_size(2**31 + 5, 256)
    assert blocks == 2**23 + 1 == 8_388_609 and blocks <= 2**31 - 1
    assert 2**31 + 5 - (blocks - 1) * 256 == 5  # threads with work in the last block


def test_answer_writes_past_the_end():
    a = np.ones(1000, dtype=np.float32)
    _, _, out_of_bounds = vector_add_grid(a, a, block=256, bounds_check=False)
    assert grid_size(1000, 256) == 4 and out_of_bounds == 24 == (-1000) % 256
