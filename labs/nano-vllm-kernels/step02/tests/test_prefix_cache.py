"""Prefix caching: hash-chained blocks shared between requests, with outputs unchanged."""
import pytest

from block_manager import BlockManager, chain_hash
from engine import LLMEngine
from sequence import SamplingParams, Sequence
from tiny_model import random_prompts


def seq_of(tokens):
    return Sequence(list(tokens), SamplingParams())


def assert_all_blocks_free(manager: BlockManager):
    """Every block is back in the free list exactly once, and no request holds it (shared blocks included)."""
    assert sorted(manager.free_block_ids) == list(range(len(manager.blocks)))
    assert all(block.ref_count == 0 for block in manager.blocks)


def test_a_blocks_hash_depends_on_everything_before_it():
    assert chain_hash([1, 2, 3, 4], -1) == chain_hash([1, 2, 3, 4], -1)
    assert chain_hash([1, 2, 3, 4], -1) != chain_hash([1, 2, 3, 5], -1)
    assert chain_hash([5, 6, 7, 8], chain_hash([1, 2, 3, 4], -1)) != chain_hash([5, 6, 7, 8], chain_hash([0, 2, 3, 4], -1))


def test_a_shared_prefix_shares_blocks():
    manager = BlockManager(num_blocks=10, block_size=4)
    a = seq_of(range(10, 20))           # blocks: [10..13] [14..17] [18 19]
    b = seq_of([*range(10, 18), 99])    # same first two blocks, then its own
    c = seq_of([*range(10, 14), 7, 7, 7, 7, 1])  # same first block only
    for seq in (a, b, c):
        manager.allocate(seq)
    assert b.block_table[:2] == a.block_table[:2] and b.block_table[2] != a.block_table[2]
    assert c.block_table[0] == a.block_table[0] and c.block_table[1] != a.block_table[1]
    assert (a.num_cached_tokens, b.num_cached_tokens, c.num_cached_tokens) == (0, 8, 4)
    assert [manager.blocks[i].ref_count for i in a.block_table] == [3, 2, 1]
    assert manager.num_free_blocks == 10 - 6  # a: 3 blocks, b: 1 of its own, c: 2 of its own
    manager.deallocate(a)
    assert [manager.blocks[i].ref_count for i in b.block_table] == [2, 1, 1]
    manager.deallocate(b)
    manager.deallocate(c)
    assert_all_blocks_free(manager)


def test_the_block_with_the_last_token_is_always_computed():
    manager = BlockManager(num_blocks=10, block_size=4)
    a, b = seq_of(range(8)), seq_of(range(8))  # two full blocks, the same prompt twice
    manager.allocate(a)
    manager.allocate(b)
    assert b.num_cached_tokens == 4  # the second block holds b's last token: b computes it itself
    assert b.block_table[0] == a.block_table[0] and b.block_table[1] != a.block_table[1]
    manager.deallocate(a)
    manager.deallocate(b)
    assert_all_blocks_free(manager)


def test_a_freed_block_is_found_again_until_it_is_overwritten():
    manager = BlockManager(num_blocks=3, block_size=4)
    a = seq_of(range(9))
    manager.allocate(a)
    first = a.block_table[0]
    manager.deallocate(a)
    b = seq_of([*range(4), 50])
    manager.allocate(b)  # a's first block is free but intact: b takes it back
    assert b.block_table[0] == first and b.num_cached_tokens == 4
    manager.deallocate(b)
    c = seq_of([60] * 12)  # needs all three blocks: the old contents are overwritten
    manager.allocate(c)
    manager.deallocate(c)
    d = seq_of([*range(4), 50])
    manager.allocate(d)
    assert d.num_cached_tokens == 0
    manager.deallocate(d)
    assert_all_blocks_free(manager)


def test_decode_names_a_block_when_it_fills():
    manager = BlockManager(num_blocks=4, block_size=4)
    a = seq_of([1, 2, 3])
    manager.allocate(a)
    a.token_ids.append(4)  # the 4th token fills block 0 during the next decode step
    manager.may_append(a)
    b = seq_of([1, 2, 3, 4, 9])
    manager.allocate(b)
    assert b.block_table[0] == a.block_table[0] and b.num_cached_tokens == 4
    manager.deallocate(b)
    manager.deallocate(a)
    assert_all_blocks_free(manager)


@pytest.mark.parametrize("num_kv_blocks", [12])
def test_cache_hits_give_the_same_tokens_as_transformers(model_dir, hf_greedy, num_kv_blocks):
    engine = LLMEngine(model_dir, max_num_seqs=3, num_kv_blocks=num_kv_blocks, block_size=4)
    system = random_prompts(1, 13, 13, 512, seed=17)[0]  # a shared "system prompt" of 3 full blocks + 1
    prompts = [system + tail for tail in random_prompts(6, 1, 6, 512, seed=18)]
    expected = [hf_greedy(p, 8) for p in prompts]
    assert len({t for out in expected for t in out}) > 5
    fed = []
    forward = engine.model_runner.model.forward
    engine.model_runner.model.forward = lambda ids, pos, ctx: fed.append(len(ids)) or forward(ids, pos, ctx)
    seqs = [engine.add_request(p, SamplingParams(max_tokens=8)) for p in prompts]
    cached = []
    while not engine.scheduler.is_finished():
        cached += [s.num_cached_tokens for s in engine.step()]
    assert [s.completion_token_ids for s in seqs] == expected
    assert max(cached) >= 12  # later requests found the system prompt's blocks
    assert sum(fed) < sum(map(len, prompts)) + sum(len(e) - 1 for e in expected)  # and skipped computing them
    if num_kv_blocks == 12:
        assert engine.scheduler.num_preemptions > 0
    assert_all_blocks_free(engine.block_manager)  # finished requests gave back every block, shared or not
