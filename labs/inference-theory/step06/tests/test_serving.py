"""The TTFT/TPOT model's arithmetic, and that the measurement of the engine gives consistent fields.

Speed itself is never asserted: the machine is shared.
"""
import math

import pytest
import torch

from serving import StepModel, compare, make_engine, measure, predict
from sequence import SamplingParams
from tiny_model import TINY, make_tiny_qwen3, random_prompts


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_tiny_qwen3(tmp_path_factory.mktemp("models") / "tiny-qwen3", seed=0)


def test_step_model_goes_through_both_points():
    m = StepModel.fit(2, 0.030, 10, 0.070)
    assert math.isclose(m.per_token, 0.005) and math.isclose(m.fixed, 0.020)
    assert math.isclose(m(2), 0.030) and math.isclose(m(10), 0.070)


def test_prediction_arithmetic_by_hand():
    # fixed 10 ms, 1 ms per token; 4 requests, prompt 10, output 5
    p = predict(StepModel(0.010, 0.001), StepModel(0.010, 0.001), batch=4, prompt=10, output=5)
    assert math.isclose(p["ttft"], 0.010 + 0.001 * 40)        # 0.050 s: one prefill of 40 tokens
    assert math.isclose(p["tpot"], 0.010 + 0.001 * 4)         # 0.014 s: a decode step of 4 sequences
    assert math.isclose(p["seconds"], 0.050 + 4 * 0.014)      # 0.106 s
    assert math.isclose(p["throughput"], 20 / 0.106)          # 4 * 5 tokens


def test_compare_is_exact_where_fitted():
    rows = [dict(batch=b, ttft=0.01 + 0.002 * b, tpot=0.02 + 0.001 * b * b, seconds=1.0, throughput=1.0)
            for b in (1, 2, 4)]
    _, _, out = compare(rows, prompt=3, output=5)
    assert math.isclose(out[0]["ttft_ratio"], 1) and math.isclose(out[-1]["tpot_ratio"], 1)
    assert out[1]["tpot"] / out[1]["predicted_tpot"] == out[1]["tpot_ratio"] < 1  # a convex curve: line overshoots


def test_the_engine_matches_transformers(model_dir):
    from transformers import AutoModelForCausalLM
    hf = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    prompts = random_prompts(3, 4, 9, TINY["vocab_size"], seed=1)
    engine = make_engine(model_dir, 3, 9, 6)
    outs = engine.generate(prompts, SamplingParams(max_tokens=6, ignore_eos=True))
    for p, o in zip(prompts, outs):
        ref = hf.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                          max_new_tokens=6, do_sample=False, eos_token_id=None, pad_token_id=0)[0, len(p):]
        assert o.token_ids == ref.tolist()
    assert len({t for o in outs for t in o.token_ids}) > 3


@pytest.mark.parametrize("batch", [1, 3])
def test_measured_fields_are_consistent(model_dir, batch):
    output = 5
    engine = make_engine(model_dir, batch, 8, output)
    r = measure(engine, random_prompts(batch, 8, 8, TINY["vocab_size"], seed=batch), output)
    # the model's picture of the run: one prefill of every prompt, then output-1 decode steps of the whole batch
    assert r["steps"] == [("prefill", batch)] + [("decode", batch)] * (output - 1)
    assert r["tokens"] == batch * output and r["batch"] == batch
    assert 0 < r["ttft"] <= r["seconds"] and r["tpot"] > 0
    # lockstep: every request gets its first token from the same step and its last from the same step
    assert math.isclose(r["ttft"] + (output - 1) * r["tpot"], r["last_token"], rel_tol=1e-9)
    assert r["last_token"] <= r["seconds"]
    assert math.isclose(r["throughput"], batch * output / r["seconds"])
