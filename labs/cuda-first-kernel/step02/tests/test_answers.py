"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

from simulate import thread_indices, vector_add_threads


def test_answer_one_thread_does_every_index():
    n = 10**6
    assert np.array_equal(thread_indices(0, 1, n), np.arange(n))  # one thread: 10^6 iterations
    a = np.ones(n, dtype=np.float32)
    _, writes = vector_add_threads(a, a, threads=1)
    assert np.all(writes == 1)


def test_answer_thread_0_of_3():
    n = 1000
    assert np.array_equal(thread_indices(0, 3, n)[:4], [0, 3, 6, 9])
    assert np.all(thread_indices(0, 3, n) % 3 == 0)
    _, writes = vector_add_threads(np.zeros(n, np.float32), np.zeros(n, np.float32), threads=3)
    assert np.all(writes == 1)
