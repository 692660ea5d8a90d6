"""The user API with temperature, top-k and top-p, against an independent float64 reference."""
import math

import numpy as np
import pytest
import torch

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


def test_llm_generate_greedy_and_sampled(model_dir, hf_greedy):
    llm = LLM(model_dir, seed=1)
    prompts = random_prompts(3, 3, 12, 512, seed=19)
    greedy = llm.generate(prompts, SamplingParams(max_tokens=6))
    assert [o.token_ids for o in greedy] == [hf_greedy(p, 6) for p in prompts]
    top1 = llm.generate(prompts, SamplingParams(max_tokens=6, temperature=1.5, top_k=1))
    assert [o.token_ids for o in top1] == [o.token_ids for o in greedy]  # top-k of 1 is greedy
    sampled = llm.generate(prompts * 3, SamplingParams(max_tokens=6, temperature=1.5, top_p=0.9))
    assert len({tuple(o.token_ids) for o in sampled}) > 3  # really random, not greedy


@pytest.mark.parametrize("bad", [dict(top_k=-1), dict(top_k=2.5), dict(top_k=True), dict(top_p=0.0), dict(top_p=1.5),
                                 dict(top_p=True), dict(temperature=-0.1), dict(temperature=True), dict(max_tokens=0)])
def test_bad_sampling_values_fail_alone(model_dir, hf_greedy, bad):
    llm = LLM(model_dir)
    good = [21, 22, 23]
    out = llm.generate([good, good], [SamplingParams(max_tokens=4), SamplingParams(**{"max_tokens": 4, **bad})])
    assert out[1].finish_reason == "error" and next(iter(bad)) in out[1].error
    assert out[0].token_ids == hf_greedy(good, 4)
