"""The numbers in the README's worked answers (풀이), computed with this step's code."""
import argparse

import pytest
import torch

import bench
from model import Qwen3Config, Qwen3ForCausalLM


def preset_config() -> Qwen3Config:
    m = bench.PRESETS["cpu-28m"]["model"]
    return Qwen3Config(**m, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True, eos_token_id=2)


def test_answer_preset_parameter_count():
    with torch.device("meta"):  # shapes only, no memory
        model = Qwen3ForCausalLM(preset_config())
    per_layer = (512 * 512 + 2 * 512 * 256 + 512 * 512) + 3 * 512 * 1408 + 2 * 512 + 2 * 64
    assert per_layer == 2_950_272
    total = sum(p.numel() for p in model.parameters())  # the tied lm_head is counted once
    assert total == 8192 * 512 + 8 * per_layer + 512 == 27_796_992


def test_answer_tpot_of_one_request():
    row = bench.summarize("x", 2.0, [0.4], [2.0], [65])
    assert row["ttft_ms"] == pytest.approx(400.0) and row["tpot_ms"] == pytest.approx(25.0)


def test_answer_static_batch_waste():
    p = bench.PRESETS["cpu-28m"]
    args = argparse.Namespace(seed=0, **{k: p[k] for k in ("num_requests", "min_input", "max_input", "min_output",
                                                            "max_output")})
    outputs = [n for _, n in bench.make_requests(args, 8192)]
    longest, useful = max(outputs), sum(outputs)
    assert (longest, useful) == (128, 5209)
    assert round(1 - useful / (64 * longest), 3) == 0.364  # decode slots a static batch of 64 spends on nothing
