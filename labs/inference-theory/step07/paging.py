"""PagedAttention's memory side: block tables, and how much of the KV cache a trace of requests wastes.

A contiguous cache reserves max_len positions per request, because the final length
is unknown when the request starts; whatever the request does not use is wasted for
its whole life. A paged cache cuts the pool into blocks of b positions and gives a
request one more block only when its last one is full. Its block table maps logical
block i (positions i*b .. i*b+b-1) to a physical block anywhere in the pool, so the
waste of a request is the unused tail of its last block: less than b positions.
Attention gathers the keys and values through the block table.
"""
from __future__ import annotations

import random
from collections import deque

import torch
import torch.nn.functional as F


def make_trace(n: int, seed: int = 0, max_len: int = 2048) -> list[int]:
    """Final lengths (prompt + output) of n requests: prompts 16-512 tokens, outputs mostly short, some long."""
    rng = random.Random(seed)
    return [min(max_len, rng.randint(16, 512) + int(rng.expovariate(1 / 200))) for _ in range(n)]


class BlockAllocator:
    """A pool of num_blocks blocks of block_size positions; requests take blocks as they grow."""

    def __init__(self, num_blocks: int, block_size: int):
        self.block_size = block_size
        self.free = deque(range(num_blocks))
        self.tables: dict[int, list[int]] = {}
        self.lengths: dict[int, int] = {}

    def append(self, seq: int, n: int = 1) -> None:
        """Make room for n more positions of request seq; a new block only when its last block is full."""
        table, length = self.tables.setdefault(seq, []), self.lengths.get(seq, 0)
        need = -(-(length + n) // self.block_size) - len(table)
        if need > len(self.free):
            raise MemoryError(f"request {seq} needs {need} more blocks; {len(self.free)} are free")
        table += [self.free.popleft() for _ in range(need)]
        self.lengths[seq] = length + n

    def release(self, seq: int) -> None:
        self.free.extend(self.tables.pop(seq))
        del self.lengths[seq]

    def slot(self, seq: int, pos: int) -> int:
        """The physical position of logical position pos: block_table[pos // b] * b + pos % b."""
        return self.tables[seq][pos // self.block_size] * self.block_size + pos % self.block_size

    def reserved_positions(self) -> int:
        return sum(len(t) for t in self.tables.values()) * self.block_size


def waste(lengths: list[int], max_len: int, block_size: int) -> dict:
    """Positions reserved and wasted when every request of the trace is at its final length."""
    pool = BlockAllocator(sum(-(-n // block_size) for n in lengths), block_size)
    for step in range(max(lengths)):  # all requests grow together, a token per step, as in batched decode
        for seq, n in enumerate(lengths):
            if step < n:
                pool.append(seq)
    used = sum(lengths)
    return dict(requests=len(lengths), used=used, contiguous_reserved=len(lengths) * max_len,
                paged_reserved=pool.reserved_positions(),
                per_request_paged_waste=[len(pool.tables[s]) * block_size - n for s, n in enumerate(lengths)])


def paged_decode_attention(q, k_pool, v_pool, block_tables: list[list[int]], lengths: list[int]):
    """One query per request (B, H, 1, d) against its keys and values in the pool.

    k_pool, v_pool: (num_blocks, H_kv, block_size, d). Request i's positions are the
    blocks block_tables[i] laid end to end, cut at lengths[i].
    """
    outs = []
    for i, (table, n) in enumerate(zip(block_tables, lengths)):
        k = k_pool[table].transpose(0, 1).flatten(1, 2)[:, :n]  # (H_kv, blocks * b, d) -> the first n positions
        v = v_pool[table].transpose(0, 1).flatten(1, 2)[:, :n]
        outs.append(F.scaled_dot_product_attention(q[i:i + 1], k[None], v[None], enable_gqa=True))
    return torch.cat(outs)
