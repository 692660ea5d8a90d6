"""The engine's greedy outputs are token-identical to transformers' generate on the same weights."""
import pytest

from engine import LLMEngine
from sequence import SamplingParams
from tiny_model import random_prompts


@pytest.fixture(scope="module")
def engine(model_dir):
    return LLMEngine(model_dir)


def test_greedy_matches_transformers_for_mixed_lengths(engine, hf_greedy):
    prompts = random_prompts(4, 1, 30, engine.config.vocab_size, seed=3)
    assert len({len(p) for p in prompts}) > 1
    expected = [hf_greedy(p, 12) for p in prompts]
    # A seeded model must give varied tokens, or the comparison proves nothing.
    assert len({t for out in expected for t in out}) > 5
    outputs = engine.generate(prompts, SamplingParams(max_tokens=12))
    assert [o.token_ids for o in outputs] == expected
    assert [o.prompt_token_ids for o in outputs] == prompts


def test_stops_at_eos_like_transformers(engine, hf_greedy):
    prompt = random_prompts(1, 8, 8, engine.config.vocab_size, seed=5)[0]
    free_run = hf_greedy(prompt, 10, eos_token_id=None)
    eos = free_run[4]  # pretend the 5th generated token is the end-of-sequence token
    expected = hf_greedy(prompt, 10, eos_token_id=eos)
    assert expected[-1] == eos and len(expected) < 10
    engine.eos_token_id = eos
    try:
        [out] = engine.generate([prompt], SamplingParams(max_tokens=10))
        [ignored] = engine.generate([prompt], SamplingParams(max_tokens=10, ignore_eos=True))
    finally:
        engine.eos_token_id = engine.config.eos_token_id
    assert out.token_ids == expected and out.finish_reason == "stop"
    assert ignored.token_ids == free_run and ignored.finish_reason == "length"
