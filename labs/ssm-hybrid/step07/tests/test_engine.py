"""The hybrid engine under continuous batching against the plain model (the whole sequence run again for each
token, no state kept), request by request; the cache manager's bookkeeping and the memory each request holds,
against the formula. (test_hybrid checks the plain model against transformers' Jamba.)"""
import pytest
import torch

from engine import HybridEngine
from hf import hf_jamba
from hybrid import HybridConfig, HybridLM

CFG = HybridConfig(vocab_size=256, d_model=32, layer_types=("mamba", "attention", "mamba", "attention"))
SSM_BYTES = 2 * 64 * (4 + 8) * 4   # 2 Mamba layers, d_inner 64, conv window 4 + d_state 8, fp32: one slot
KV_PER_TOKEN = 2 * 2 * 2 * 8 * 4   # K and V, 2 attention layers, 2 kv heads of 8, fp32


@pytest.fixture(scope="module")
def pair():
    hf = hf_jamba(CFG, CFG.layer_types)
    ours = HybridLM(CFG).eval()
    ours.load_hf_state_dict(hf.state_dict())
    return hf, ours


@torch.no_grad()
def greedy_plain(model, prompt, n):
    ids = torch.tensor([prompt])
    for _ in range(n):
        ids = torch.cat([ids, model(ids)[:, -1:].argmax(-1)], dim=1)
    return ids[0, len(prompt):].tolist()


@pytest.fixture(scope="module")
def requests(pair):
    _, ours = pair
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(0, 256, (n,), generator=g).tolist() for n in (5, 11, 3, 17, 8)]
    max_tokens = [12, 6, 20, 9, 15]
    refs = [greedy_plain(ours, p, n) for p, n in zip(prompts, max_tokens)]
    assert all(len(set(r)) > 3 for r in refs)  # varied outputs
    return prompts, max_tokens, refs


def run_engine(ours, prompts, max_tokens, **kw):
    engine = HybridEngine(ours, **kw)
    seqs = [engine.add_request(p, n) for p, n in zip(prompts, max_tokens)]
    joined = False  # did a request start while others were mid-generation?
    engine.most_running = 0
    while not engine.scheduler.is_finished():
        running_before = [s for s in engine.scheduler.running if s.completion]
        _, is_prefill = engine.step()
        joined |= is_prefill and bool(running_before)
        engine.most_running = max(engine.most_running, len(engine.scheduler.running))
    return engine, [s.completion for s in seqs], joined


def test_continuous_batching_equals_the_plain_forward_request_by_request(pair, requests):
    _, ours = pair
    prompts, max_tokens, refs = requests
    engine, outs, joined = run_engine(ours, prompts, max_tokens, num_blocks=64, block_size=4, num_slots=3,
                                      max_num_seqs=3)
    assert outs == refs
    assert joined
    assert len(engine.cache.free_blocks) == 64 and len(engine.cache.free_slots) == 3  # all given back


def test_preemption_and_recompute_keep_the_tokens(pair, requests):
    _, ours = pair
    prompts, max_tokens, refs = requests
    engine, outs, _ = run_engine(ours, prompts, max_tokens, num_blocks=12, block_size=4, num_slots=4, max_num_seqs=4)
    assert engine.scheduler.num_preemptions > 0
    assert outs == refs


def test_one_slot_runs_one_request_at_a_time(pair, requests):
    """Slots, not blocks, limit this run: one request at a time, each reusing slot 0 over its last owner's state."""
    _, ours = pair
    prompts, max_tokens, refs = requests
    engine, outs, _ = run_engine(ours, prompts, max_tokens, num_blocks=64, block_size=4, num_slots=1, max_num_seqs=4)
    assert outs == refs
    assert engine.most_running == 1


def test_memory_held_per_request_follows_the_formula(pair, requests):
    _, ours = pair
    prompts, max_tokens, _ = requests
    engine, _, _ = run_engine(ours, prompts, max_tokens, num_blocks=64, block_size=4, num_slots=3, max_num_seqs=3)
    assert len(engine.trace) == len(prompts) + sum(n - 1 for n in max_tokens)
    for _, length, ssm, kv in engine.trace:
        assert ssm == SSM_BYTES
        assert kv == -(-length // 4) * 4 * KV_PER_TOKEN  # whole blocks of 4 tokens


def test_bad_settings_and_requests_are_refused(pair):
    _, ours = pair
    with pytest.raises(ValueError, match="num_slots"):
        HybridEngine(ours, num_slots=0)
    engine = HybridEngine(ours, num_blocks=4, block_size=4)
    with pytest.raises(ValueError, match="KV blocks"):
        engine.add_request([1] * 10, max_tokens=10)
    with pytest.raises(ValueError, match="prompt"):
        engine.add_request([], max_tokens=3)


def test_cache_manager_counts(pair):
    _, ours = pair
    engine = HybridEngine(ours, num_blocks=5, block_size=4, num_slots=2)
    a = engine.add_request([1, 2, 3, 4, 5], 3)
    b = engine.add_request([6] * 4, 3)
    c = engine.add_request([7], 1)
    seqs, is_prefill = engine.step()
    assert is_prefill and seqs == [a, b]  # c waits: two slots only
    assert len(a.block_table) == 2 and len(b.block_table) == 1 and {a.slot, b.slot} == {0, 1}
    assert list(engine.cache.free_blocks) == [3, 4] and not engine.cache.free_slots
    engine.step()  # decode: b's 5th token opens its second block; a's 6th fits in its second
    assert len(a.block_table) == 2 and len(b.block_table) == 2 and len(engine.cache.free_blocks) == 1
    while not engine.scheduler.is_finished():
        engine.step()
    assert c.completion and len(engine.cache.free_blocks) == 5 and len(engine.cache.free_slots) == 2
