"""The block manager: hands out fixed-size blocks of the KV pool and takes them back.

A request's `block_table` lists its blocks in order: token p lives in block
block_table[p // block_size], at offset p % block_size. The blocks need not be
next to each other, so a freed block can be reused by any request: no
fragmentation, and memory is taken only as a request grows.

Prefix caching: a full block is named by a hash of its tokens *and* of every
token before it (the previous block's hash is chained in). Two requests whose
prompts start alike find the same hashes, so the second reuses the first one's
blocks (ref_count > 1) and skips computing those tokens.
"""
import hashlib
from collections import deque

from sequence import Sequence


class Block:
    def __init__(self, block_id: int):
        self.block_id = block_id
        self.ref_count = 0  # how many requests use this block
        self.hash = -1  # set once the block is full: names its tokens and all tokens before them
        self.token_ids: list[int] = []  # kept to rule out hash collisions


def chain_hash(token_ids: list[int], prefix_hash: int) -> int:
    """A block's name: its tokens, chained to the hash of the block before it (-1 for the first)."""
    h = hashlib.sha256(prefix_hash.to_bytes(8, "little", signed=True))
    h.update(b"".join(t.to_bytes(4, "little") for t in token_ids))
    return int.from_bytes(h.digest()[:8], "little", signed=True) & (2**62 - 1)  # never -1


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int):
        self.block_size = block_size
        self.blocks = [Block(i) for i in range(num_blocks)]
        self.free_block_ids: deque[int] = deque(range(num_blocks))
        self.hash_to_block_id: dict[int, int] = {}  # full blocks, in use or free but not yet overwritten

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
        if self.hash_to_block_id.get(block.hash) == block.block_id:  # its old contents are about to go
            del self.hash_to_block_id[block.hash]
        block.hash, block.token_ids, block.ref_count = -1, [], 1
        return block.block_id

    def _register(self, block_id: int, token_ids: list[int], prefix_hash: int) -> None:
        block = self.blocks[block_id]
        block.hash, block.token_ids = chain_hash(token_ids, prefix_hash), list(token_ids)
        self.hash_to_block_id[block.hash] = block_id

    def can_allocate(self, seq: Sequence) -> bool:
        """Is there room for a prefill of all of seq's tokens?"""
        return self.num_free_blocks >= self._missing_blocks(seq)

    def allocate(self, seq: Sequence) -> None:
        """Blocks for a prefill: reuse every leading full block already cached, take fresh ones after."""
        assert not seq.block_table
        seq.num_cached_tokens = 0  # a preempted request starts over
        prefix_hash, cache_hit = -1, True
        for i in range(self._missing_blocks(seq)):
            token_ids = seq.token_ids[i * self.block_size:(i + 1) * self.block_size]
            block_id = self.hash_to_block_id.get(chain_hash(token_ids, prefix_hash), -1)
            # The block holding the last token is always computed: its logits give the next token.
            cache_hit = (cache_hit and block_id != -1 and self.blocks[block_id].token_ids == token_ids
                         and (i + 1) * self.block_size < seq.num_tokens)
            if cache_hit:
                block = self.blocks[block_id]
                if block.ref_count == 0:  # freed earlier but still intact: take it back
                    self.free_block_ids.remove(block_id)
                block.ref_count += 1
                seq.num_cached_tokens += self.block_size
            else:
                block_id = self._take_block()
                if len(token_ids) == self.block_size:
                    self._register(block_id, token_ids, prefix_hash)
            seq.block_table.append(block_id)
            prefix_hash = self.blocks[block_id].hash

    def can_append(self, seq: Sequence) -> bool:
        """Is there room for the token that the next decode step stores?"""
        return self.num_free_blocks >= self._missing_blocks(seq)

    def may_append(self, seq: Sequence) -> None:
        """Add a block when the newest token starts one (only every block_size-th step)."""
        for _ in range(self._missing_blocks(seq)):
            seq.block_table.append(self._take_block())
        if seq.num_tokens % self.block_size == 0:  # this step fills the last block: name it for others
            n = len(seq.block_table)
            prefix_hash = self.blocks[seq.block_table[-2]].hash if n > 1 else -1
            self._register(seq.block_table[-1], seq.token_ids[(n - 1) * self.block_size:], prefix_hash)

    def deallocate(self, seq: Sequence) -> None:
        for block_id in reversed(seq.block_table):
            block = self.blocks[block_id]
            block.ref_count -= 1
            if block.ref_count == 0:
                self.free_block_ids.append(block_id)  # keeps its hash until it is taken again
        seq.block_table.clear()
