"""Sampling settings travel with each request: temperature, top-k, top-p and a seed of its own."""
import math

import numpy as np
import pytest
import torch

from engine import LLMEngine
from llm import LLM, SamplingParams
from sampler import Sampler
from tiny_model import random_prompts


def reference_distribution(logits, temperature, top_k, top_p):
    """Float64 NumPy: tempered softmax, keep the top-k, renormalize, keep the smallest set reaching top_p."""
    p = np.exp(logits / temperature - np.max(logits / temperature))
    p /= p.sum()
    order = np.argsort(-p)
    keep = np.zeros_like(p, dtype=bool)
    kept = order[:top_k] if top_k else order
    q = p[kept] / p[kept].sum()
    total = 0.0
    for idx, prob in zip(kept, q):
        keep[idx] = True
        total += prob
        if total >= top_p:
            break
    out = np.where(keep, p, 0.0)
    return out / out.sum()


def test_sampler_is_greedy_at_temperature_zero():
    logits = torch.randn(5, 50, generator=torch.Generator().manual_seed(1))
    assert torch.equal(Sampler()(logits, torch.zeros(5)), logits.argmax(-1))


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampled_frequencies_follow_the_tempered_softmax(temperature):
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    n = 20000
    tokens = Sampler(seed=3)(logits.repeat(n, 1), torch.full((n,), temperature))
    freq = torch.bincount(tokens, minlength=5).double() / n
    expected = torch.softmax(logits.double() / temperature, 0)
    # Not rounding but sampling noise: a frequency's standard error is at most sqrt(0.25 / n); allow 4 of them.
    assert (freq - expected).abs().max() < 4 * math.sqrt(0.25 / n)


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, 3, 1.0), (1.0, 0, 0.7), (0.7, 4, 0.9), (2.0, 2, 0.5)])
def test_top_k_top_p_frequencies(temperature, top_k, top_p):
    logits = np.array([2.0, 1.5, 1.0, 0.3, 0.0, -1.0])
    n = 20000
    tokens = Sampler(seed=4)(torch.tensor(logits, dtype=torch.float32).repeat(n, 1), torch.full((n,), temperature),
                             torch.full((n,), top_k), torch.full((n,), top_p))
    freq = np.bincount(tokens.numpy(), minlength=6) / n
    expected = reference_distribution(logits, temperature, top_k, top_p)
    assert np.all(freq[expected == 0] == 0)  # cut tokens are never drawn
    # Not rounding but sampling noise: a frequency's standard error is at most sqrt(0.25 / n); allow 4 of them.
    assert np.abs(freq - expected).max() < 4 * math.sqrt(0.25 / n)


def test_a_seeded_row_draws_the_same_tokens_whatever_its_batch_mates():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(2))
    ones = torch.ones(4)
    own = torch.Generator().manual_seed(9)
    alone = [int(Sampler(seed=0)(logits[1:2], ones[:1], generators=[own])[0]) for _ in range(20)]
    own = torch.Generator().manual_seed(9)
    sampler = Sampler(seed=5)  # another shared stream, which three unseeded batch mates draw from
    batched = [int(sampler(logits, ones, generators=[None, own, None, None])[1]) for _ in range(20)]
    assert batched == alone and len(set(alone)) > 1


def test_sampling_is_reproducible_and_bad_temperatures_fail_alone(model_dir):
    prompts = random_prompts(3, 4, 10, 512, seed=15)
    params = [SamplingParams(max_tokens=8, temperature=1.0), SamplingParams(max_tokens=8, temperature=-1.0),
              SamplingParams(max_tokens=8, temperature=float("nan"))]
    first = LLMEngine(model_dir, seed=7).generate(prompts, params)
    second = LLMEngine(model_dir, seed=7).generate(prompts, params)
    assert first[0].token_ids == second[0].token_ids and len(first[0].token_ids) == 8
    assert [o.finish_reason for o in first[1:]] == ["error", "error"]
    assert all("temperature" in o.error for o in first[1:])


@pytest.fixture(scope="module")
def llm(model_dir):
    return LLM(model_dir, seed=1)


def test_llm_generate_greedy_and_sampled(llm, hf_greedy):
    prompts = random_prompts(2, 3, 12, 512, seed=19)
    greedy = llm.generate(prompts, SamplingParams(max_tokens=5))
    assert [o.token_ids for o in greedy] == [hf_greedy(p, 5) for p in prompts]
    top1 = llm.generate(prompts, SamplingParams(max_tokens=5, temperature=1.5, top_k=1))
    assert [o.token_ids for o in top1] == [o.token_ids for o in greedy]  # top-k of 1 is greedy
    sampled = llm.generate(prompts * 3, SamplingParams(max_tokens=5, temperature=1.5, top_p=0.9))
    assert len({tuple(o.token_ids) for o in sampled}) > 2  # really random, not greedy


@pytest.mark.parametrize("bad", [dict(top_k=-1), dict(top_k=2.5), dict(top_k=True), dict(top_p=0.0), dict(top_p=1.5),
                                 dict(top_p=True), dict(temperature=-0.1), dict(temperature=True),
                                 dict(temperature=float("inf")), dict(seed=-1), dict(seed=True), dict(seed=2.0),
                                 dict(max_tokens=0), dict(max_tokens=False)])
def test_bad_sampling_values_fail_alone(llm, hf_greedy, bad):
    good = [21, 22, 23]
    out = llm.generate([good, good], [SamplingParams(max_tokens=4), SamplingParams(**{"max_tokens": 4, **bad})])
    assert out[1].finish_reason == "error" and next(iter(bad)) in out[1].error
    assert out[0].token_ids == hf_greedy(good, 4)


@pytest.mark.parametrize("bad", [-1, 2**64, 1.5, True, "0"])
def test_the_engine_seed_is_a_checked_setting(model_dir, bad):
    with pytest.raises(ValueError, match="seed"):
        LLMEngine(model_dir, seed=bad)


def test_a_seeded_request_samples_the_same_tokens_whatever_runs_beside_it(model_dir, hf_greedy):
    prompt, *others = random_prompts(4, 6, 12, 512, seed=21)
    seeded = SamplingParams(max_tokens=12, temperature=1.0, seed=1234)
    [alone] = LLMEngine(model_dir, seed=0).generate([prompt], seeded)
    assert alone.token_ids != hf_greedy(prompt, 12)  # really sampled, not greedy
    # Beside unseeded sampled requests, which draw from the engine's stream around it:
    mates = SamplingParams(max_tokens=12, temperature=1.0)
    beside = LLMEngine(model_dir, seed=5).generate([others[0], prompt, *others[1:]], [mates, seeded, mates, mates])
    assert beside[1].token_ids == alone.token_ids
