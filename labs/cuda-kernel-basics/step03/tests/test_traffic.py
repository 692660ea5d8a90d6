"""The bytes behind effective bandwidth, counted independently of traffic.py."""
import numpy as np

from traffic import copy_bytes, percent_of


def test_copy_moves_each_element_twice():
    src = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert copy_bytes(src.size) == 2 * src.nbytes  # read once, written once


def test_percent():
    assert percent_of(2.0, 8.0) == 25.0
