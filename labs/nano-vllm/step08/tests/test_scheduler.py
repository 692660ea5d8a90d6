"""The scheduler's queues, and a batched engine that still matches transformers token for token."""
import pytest

from block_manager import BlockManager
from engine import LLMEngine
from scheduler import Scheduler
from sequence import SamplingParams, Sequence, SequenceStatus
from tiny_model import random_prompts


def make_seqs(n):
    return [Sequence([5, 6, 7], SamplingParams(max_tokens=2)) for _ in range(n)]


def test_admits_up_to_max_num_seqs_in_arrival_order():
    scheduler = Scheduler(max_num_seqs=2, max_num_batched_tokens=100, block_manager=BlockManager(64, 4))
    seqs = make_seqs(3)
    for seq in seqs:
        scheduler.add(seq)
    assert scheduler.schedule() == (seqs[:2], True)
    assert all(s.status == SequenceStatus.RUNNING for s in seqs[:2])
    assert list(scheduler.waiting) == seqs[2:] and seqs[2].status == SequenceStatus.WAITING


def test_a_free_slot_is_filled_at_once():
    scheduler = Scheduler(max_num_seqs=2, max_num_batched_tokens=100, block_manager=BlockManager(64, 4))
    a, b, c = make_seqs(3)
    a.params = SamplingParams(max_tokens=1)  # a finishes after one token, b needs two
    for seq in (a, b, c):
        scheduler.add(seq)
    batch, is_prefill = scheduler.schedule()
    assert is_prefill
    scheduler.postprocess(batch, [9, 9], eos_token_id=2, max_model_len=100)
    assert a.is_finished and scheduler.running == [b]
    assert scheduler.schedule() == ([c], True)  # c takes a's slot while b is mid-generation
    scheduler.postprocess([c], [9], eos_token_id=2, max_model_len=100)
    assert scheduler.schedule() == ([b, c], False)  # then both decode together
    scheduler.postprocess([b, c], [9, 9], eos_token_id=2, max_model_len=100)
    assert scheduler.is_finished()


def test_a_prefill_step_respects_the_token_budget():
    scheduler = Scheduler(max_num_seqs=8, max_num_batched_tokens=7, block_manager=BlockManager(64, 4))
    seqs = make_seqs(4)  # 3 prompt tokens each
    for seq in seqs:
        scheduler.add(seq)
    assert scheduler.schedule() == (seqs[:2], True)  # 3 + 3 fit in 7, a third would not
    assert scheduler.schedule() == (seqs[2:], True)
    big = Sequence([5] * 20, SamplingParams())
    scheduler.add(big)
    assert scheduler.schedule() == ([big], True)  # alone, a prompt over the budget still runs


@pytest.mark.parametrize("max_num_seqs", [1, 3, 16])
def test_batched_greedy_matches_transformers(model_dir, hf_greedy, max_num_seqs):
    engine = LLMEngine(model_dir, max_num_seqs=max_num_seqs)
    prompts = random_prompts(5, 1, 25, engine.config.vocab_size, seed=11)
    lengths = [3, 9, 5, 1, 7]  # different max_tokens: requests finish at different steps
    expected = [hf_greedy(p, n) for p, n in zip(prompts, lengths)]
    assert len({t for out in expected for t in out}) > 5
    outputs = engine.generate(prompts, [SamplingParams(max_tokens=n) for n in lengths])
    assert [o.token_ids for o in outputs] == expected


def test_joining_requests_do_not_change_anyones_tokens(model_dir, hf_greedy):
    engine = LLMEngine(model_dir, max_num_seqs=2, max_num_batched_tokens=16)
    prompts = random_prompts(6, 2, 14, engine.config.vocab_size, seed=13)
    lengths = [8, 2, 5, 3, 6, 1]
    seqs = [engine.add_request(p, SamplingParams(max_tokens=n, ignore_eos=True)) for p, n in zip(prompts, lengths)]
    joined_mid_generation = False
    while not engine.scheduler.is_finished():
        running_before = list(engine.scheduler.running)
        stepped = engine.step()
        joined_mid_generation |= bool(running_before) and stepped[0] not in running_before
    assert joined_mid_generation  # a request was prefilled while another was mid-generation
    expected = [hf_greedy(p, n, eos_token_id=None) for p, n in zip(prompts, lengths)]
    assert [seq.completion_token_ids for seq in seqs] == expected


BAD_SETTINGS = [  # each would hang the engine or crash it later (max_num_seqs=0 admits nothing, ever)
    ("max_num_seqs", 0), ("max_num_seqs", -1), ("max_num_seqs", True), ("max_num_seqs", 2.0),
    ("max_num_batched_tokens", 0),
    ("num_kv_blocks", 0), ("block_size", 0), ("block_size", "16"),
    ("device", "tpu"), ("enforce_eager", "no"),
]


@pytest.mark.parametrize("name,value", BAD_SETTINGS)
def test_a_bad_setting_is_refused_when_the_engine_is_built(model_dir, name, value):
    with pytest.raises(ValueError, match=name):
        LLMEngine(model_dir, **{name: value})
