"""Block tables, waste on a seeded trace, and paged attention against contiguous attention."""
import math

import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from paging import BlockAllocator, make_trace, paged_decode_attention, waste


def test_slot_of_a_position_follows_the_block_table():
    pool = BlockAllocator(8, 4)
    pool.tables[0], pool.lengths[0] = [7, 2, 5], 9
    assert [pool.slot(0, p) for p in range(9)] == [28, 29, 30, 31, 8, 9, 10, 11, 20]


def test_blocks_are_taken_only_when_the_last_one_is_full_and_given_back():
    pool = BlockAllocator(4, 4)
    pool.append(0, 3)
    assert pool.tables[0] == [0]
    pool.append(0, 1)
    assert pool.tables[0] == [0]  # 4 positions fit one block
    pool.append(1, 1)
    pool.append(0, 1)
    assert pool.tables == {0: [0, 2], 1: [1]}  # interleaved growth scatters a request's blocks
    with pytest.raises(MemoryError, match="needs 2 more blocks; 1 are free"):
        pool.append(1, 8)
    pool.release(0)
    assert sorted(pool.free) == [0, 2, 3]


def test_trace_is_seeded_and_varied():
    a = make_trace(50, seed=3)
    assert a == make_trace(50, seed=3) and len(set(a)) > 30 and all(16 <= n <= 2048 for n in a)


@pytest.mark.parametrize("b", [1, 16, 48])
def test_paged_waste_is_under_a_block_per_request(b):
    lengths = make_trace(40, seed=1, max_len=1024)
    w = waste(lengths, 1024, b)
    expected = [math.ceil(n / b) * b - n for n in lengths]  # the empty tail of the last block
    assert w["per_request_paged_waste"] == expected and all(0 <= x < b for x in expected)
    assert w["paged_reserved"] - w["used"] == sum(expected)
    assert w["contiguous_reserved"] == 40 * 1024 and w["used"] == sum(lengths)


def test_paged_attention_equals_contiguous_attention():
    lengths, h, h_kv, d, b = [3, 9, 6, 1], 4, 2, 8, 2
    g = torch.Generator().manual_seed(0)
    k = [torch.randn(n, h_kv, d, generator=g, dtype=torch.float64) for n in lengths]
    v = [torch.randn(n, h_kv, d, generator=g, dtype=torch.float64) for n in lengths]
    pool = BlockAllocator(20, b)
    k_pool, v_pool = torch.full((20, h_kv, b, d), float("nan")), torch.full((20, h_kv, b, d), float("nan"))
    for pos in range(max(lengths)):
        for seq, n in enumerate(lengths):
            if pos < n:
                pool.append(seq)
                blk, off = divmod(pool.slot(seq, pos), b)
                k_pool[blk, :, off], v_pool[blk, :, off] = k[seq][pos].float(), v[seq][pos].float()
    assert any(t != list(range(t[0], t[0] + len(t))) for t in pool.tables.values())  # blocks really scattered
    q = torch.randn(len(lengths), h, 1, d, generator=g, dtype=torch.float64)
    got = paged_decode_attention(q.float(), k_pool, v_pool, [pool.tables[s] for s in range(len(lengths))], lengths)
    for i, n in enumerate(lengths):  # float64 NumPy reference, query head j uses kv head j // (h // h_kv)
        for j in range(h):
            kk, vv = k[i][:, j // 2].numpy(), v[i][:, j // 2].numpy()
            e = kk @ q[i, j, 0].numpy() / np.sqrt(d)
            p = np.exp(e - e.max())
            assert_close(got[i, j, 0], p @ vv / p.sum(), torch.float32, terms=max(n, d), depth=2)
