"""Paged KV cache: block tables, slot mapping, and preemption that leaves every output unchanged."""
import pytest

from attention import token_slots
from block_manager import BlockManager
from engine import LLMEngine
from scheduler import Scheduler
from sequence import SamplingParams, Sequence
from tiny_model import random_prompts


def test_token_slots_follow_the_block_table():
    # token p lives in block table[p // 4] at offset p % 4; counted by hand:
    assert token_slots([7, 2, 5], 4, 0, 10).tolist() == [28, 29, 30, 31, 8, 9, 10, 11, 20, 21]
    assert token_slots([7, 2, 5], 4, 8, 9).tolist() == [20]


def test_blocks_are_taken_as_a_request_grows_and_given_back():
    manager = BlockManager(num_blocks=4, block_size=4)
    seq = Sequence([1] * 5, SamplingParams())  # 5 tokens: 2 blocks
    assert manager.can_allocate(seq)
    manager.allocate(seq)
    assert len(seq.block_table) == 2 and manager.num_free_blocks == 2
    for new_tokens, blocks in [(3, 2), (1, 3)]:  # tokens 6-8 fit in block 2; token 9 opens block 3
        for _ in range(new_tokens):
            seq.token_ids.append(9)
            assert manager.can_append(seq)
            manager.may_append(seq)
        assert len(seq.block_table) == blocks
    assert all(manager.blocks[b].ref_count == 1 for b in seq.block_table)
    manager.deallocate(seq)
    assert seq.block_table == [] and manager.num_free_blocks == 4
    assert all(b.ref_count == 0 for b in manager.blocks)


def test_a_step_that_can_schedule_nothing_raises_instead_of_spinning():
    scheduler = Scheduler(max_num_seqs=2, max_num_batched_tokens=100, block_manager=BlockManager(2, 4))
    scheduler.add(Sequence([1] * 9, SamplingParams()))  # 9 tokens need 3 blocks; the pool has 2
    with pytest.raises(RuntimeError, match="nothing can be scheduled"):
        scheduler.schedule()


def test_no_room_means_no_allocation():
    manager = BlockManager(num_blocks=2, block_size=4)
    a, b = Sequence([1] * 8, SamplingParams()), Sequence([1] * 2, SamplingParams())
    manager.allocate(a)
    assert not manager.can_allocate(b)
    a.token_ids.append(9)  # a's 9th token needs a third block
    assert not manager.can_append(a)


@pytest.mark.parametrize("num_kv_blocks,block_size", [(9, 4)])
def test_outputs_match_transformers_even_with_preemption(model_dir, hf_greedy, num_kv_blocks, block_size):
    engine = LLMEngine(model_dir, max_num_seqs=4, num_kv_blocks=num_kv_blocks, block_size=block_size)
    prompts = random_prompts(6, 2, 14, engine.config.vocab_size, seed=14)
    lengths = [12, 3, 9, 14, 6, 10]
    expected = [hf_greedy(p, n) for p, n in zip(prompts, lengths)]
    assert len({t for out in expected for t in out}) > 5
    outputs = engine.generate(prompts, [SamplingParams(max_tokens=n) for n in lengths])
    assert [o.token_ids for o in outputs] == expected
    if num_kv_blocks < 10:  # such a small pool cannot hold four growing requests at once
        assert engine.scheduler.num_preemptions > 0
    else:
        assert engine.scheduler.num_preemptions == 0
    assert engine.block_manager.num_free_blocks == num_kv_blocks


def test_a_request_bigger_than_the_whole_cache_fails_alone(model_dir, hf_greedy):
    engine = LLMEngine(model_dir, num_kv_blocks=4, block_size=4)  # 16 token slots in all
    good = [11, 12, 13, 14]
    outputs = engine.generate([good, [5] * 10, good],
                              [SamplingParams(max_tokens=5), SamplingParams(max_tokens=7), SamplingParams(max_tokens=5)])
    assert outputs[1].finish_reason == "error" and "KV blocks" in outputs[1].error
    assert outputs[0].token_ids == outputs[2].token_ids == hf_greedy(good, 5)
