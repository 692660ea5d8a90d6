"""The engine core speaks only messages, and its greedy tokens equal transformers' on the same weights."""
import pytest

from engine_core import EngineCore
from llm import LLM
from messages import EngineCoreOutput, EngineCoreRequest, SamplingParams
from tiny_model import random_prompts


@pytest.fixture(scope="module")
def llm(model_dir):
    # A small KV pool (14 blocks of 4 tokens) forces preemptions among 6 requests.
    return LLM(model_dir, max_num_seqs=4, num_kv_blocks=14, block_size=4)


def test_greedy_matches_transformers_through_messages(llm, hf_greedy):
    prompts = random_prompts(6, 1, 20, 512, seed=3)
    expected = [hf_greedy(p, 10) for p in prompts]
    assert len({t for out in expected for t in out}) > 5  # varied, or the comparison proves nothing
    core = llm.client.core
    before = core.engine.scheduler.num_preemptions
    outputs = llm.generate(prompts, SamplingParams(max_tokens=10))
    assert [o.token_ids for o in outputs] == expected
    assert core.engine.scheduler.num_preemptions > before  # the small pool did preempt
    assert core.stats()["num_free_blocks"] == core.stats()["num_blocks"]  # all blocks came back


def test_deltas_add_up_to_the_final_output(llm, hf_greedy):
    prompt = random_prompts(1, 9, 9, 512, seed=4)[0]
    rid = llm.add_request(prompt, SamplingParams(max_tokens=5))
    seen = []
    while llm.has_unfinished_requests():
        for out in llm.step():
            assert out.request_id == rid and len(out.new_token_ids) == 1  # one token per step
            seen.append(out)
    assert [o.finished for o in seen] == [False] * 4 + [True]
    assert [t for o in seen for t in o.new_token_ids] == seen[-1].token_ids == hf_greedy(prompt, 5)


def test_scheduler_output_says_new_then_cached(model_dir):
    core = EngineCore(model_dir, block_size=4)
    p = SamplingParams(max_tokens=3)
    core.add_request(EngineCoreRequest("a", list(range(10, 20)), p, 0.0))
    core.step()
    first = core.last_scheduler_output
    assert [r.req_id for r in first.scheduled_new_reqs] == ["a"] and first.num_scheduled_tokens == {"a": 10}
    assert len(first.scheduled_new_reqs[0].block_ids) == 3  # ceil(10 / 4)
    core.step()
    second = core.last_scheduler_output
    assert second.scheduled_new_reqs == [] and second.num_scheduled_tokens == {"a": 1}
    assert second.scheduled_cached_reqs[0].num_computed_tokens == 10
    # The same 8 leading tokens (two full blocks) are found in the prefix cache.
    core.add_request(EngineCoreRequest("b", list(range(10, 18)) + [99, 98], p, 0.0))
    core.step()
    [new] = core.last_scheduler_output.scheduled_new_reqs
    assert new.num_computed_tokens == 8 and core.last_scheduler_output.num_scheduled_tokens["b"] == 2
    while core.has_unfinished_requests():
        core.step()
    assert "a" in core.last_scheduler_output.finished_req_ids or not core.requests


def test_abort_frees_blocks_and_bad_requests_fail_alone(model_dir):
    core = EngineCore(model_dir, block_size=4, num_kv_blocks=32)
    p = SamplingParams(max_tokens=50)
    core.add_request(EngineCoreRequest("long", list(range(3, 30)), p, 0.0))
    core.add_request(EngineCoreRequest("too-long", [5] * 300, p, 0.0))
    core.add_request(EngineCoreRequest("vocab", [600], p, 0.0))
    outs = core.step() + core.step()
    errors = {o.request_id: o.error for o in outs if o.finish_reason == "error"}
    assert "max_model_len" in errors["too-long"] and "vocab" not in errors.get("long", "")
    assert "[0, 512)" in errors["vocab"]
    assert core.stats()["num_free_blocks"] < 32
    core.abort_requests(["long", "unknown-id"])
    assert core.step() == [EngineCoreOutput("long", [], "abort")]  # the client hears why it ended
    assert core.stats()["num_free_blocks"] == 32 and not core.has_unfinished_requests()
