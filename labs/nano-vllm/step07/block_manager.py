"""The block manager: hands out fixed-size blocks of the KV pool and takes them back.

A request's `block_table` lists its blocks in order: token p lives in block
block_table[p // block_size], at offset p % block_size. The blocks need not be
next to each other, so a freed block can be reused by any request: no
fragmentation, and memory is taken only as a request grows.
"""
from collections import deque

from sequence import Sequence


class Block:
    def __init__(self, block_id: int):
        self.block_id = block_id
        self.ref_count = 0  # how many requests use this block (step08 lets requests share one)


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int):
        self.block_size = block_size
        self.blocks = [Block(i) for i in range(num_blocks)]
        self.free_block_ids: deque[int] = deque(range(num_blocks))

    @property
    def num_free_blocks(self) -> int:
        return len(self.free_block_ids)

    def num_blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)  # ceil

    def _missing_blocks(self, seq: Sequence) -> int:
        # Blocks to add so that every token of seq, the newest included, has a slot.
        return self.num_blocks_for(seq.num_tokens) - len(seq.block_table)

    def _take_block(self) -> int:
        block = self.blocks[self.free_block_ids.popleft()]
        assert block.ref_count == 0
        block.ref_count = 1
        return block.block_id

    def can_allocate(self, seq: Sequence) -> bool:
        """Is there room for a prefill of all of seq's tokens?"""
        return self.num_free_blocks >= self._missing_blocks(seq)

    def allocate(self, seq: Sequence) -> None:
        assert not seq.block_table
        for _ in range(self._missing_blocks(seq)):
            seq.block_table.append(self._take_block())

    def can_append(self, seq: Sequence) -> bool:
        """Is there room for the token that the next decode step stores?"""
        return self.num_free_blocks >= self._missing_blocks(seq)

    def may_append(self, seq: Sequence) -> None:
        """Add a block when the newest token starts one (only every block_size-th step)."""
        for _ in range(self._missing_blocks(seq)):
            seq.block_table.append(self._take_block())

    def deallocate(self, seq: Sequence) -> None:
        for block_id in reversed(seq.block_table):
            block = self.blocks[block_id]
            block.ref_count -= 1
            if block.ref_count == 0:
                self.free_block_ids.append(block_id)
        seq.block_table.clear()
