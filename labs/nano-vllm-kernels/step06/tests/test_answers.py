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


def test_answer_matmuls_per_decode_step():
    assert 7 * bench.PRESETS["cpu-28m"]["model"]["num_hidden_layers"] + 1 == 57


def test_answer_kv_gather_bytes():
    m = bench.PRESETS["cpu-28m"]["model"]
    slots = 64 * 16 * 16  # 64 requests, each row gathered to 16 blocks of 16 slots (256 tokens)
    per_layer = 2 * slots * m["num_key_value_heads"] * m["head_dim"] * 4  # K and V, fp32
    assert per_layer * m["num_hidden_layers"] == 268_435_456  # about 268 MB written, and read again by attention
    weights = 27_796_992 * 4
    assert round(per_layer * m["num_hidden_layers"] / weights, 1) == 2.4


def test_answer_rmsnorm_by_hand():
    from backends import rms_norm_reference
    y = rms_norm_reference(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0]), 0.0)
    assert [round(v, 4) for v in y.tolist()] == [0.8485, 2.2627]


def test_answer_rmsnorm_residual_bytes():
    tensor = 64 * 512 * 4  # one [64, 512] fp32 activation
    # unfused: add (2 reads, 1 write), pow (1, 1), mean (1 read), multiply by rsqrt (1, 1), weight product (1, 1)
    unfused = (3 + 2 + 1 + 2 + 2) * tensor
    fused = 4 * tensor  # read x and residual, write the new residual and the output
    assert (tensor, unfused, fused) == (131_072, 1_310_720, 524_288)
    assert unfused / fused == 2.5


def test_answer_silu_and_mul_bytes():
    tensor = 64 * 1408 * 4
    assert (tensor, 5 * tensor, 3 * tensor) == (360_448, 1_802_240, 1_081_344)  # silu then mul, against one pass


def test_answer_gather_slots_against_paged_slots():
    lens, block = [40, 200, 17], 16
    blocks = [-(-n // block) for n in lens]
    assert blocks == [3, 13, 2]
    assert (len(lens) * max(blocks) * block, sum(blocks) * block) == (624, 288)


def test_answer_online_softmax_by_hand():
    from attention import paged_decode_chunked
    # head_dim 1 and q = 1: the scores are the keys themselves. Two blocks of 2: scores (1, 3) then (2, 5).
    keys = torch.tensor([1.0, 3.0, 2.0, 5.0, 0.0]).view(5, 1, 1)  # the last slot is the scratch slot
    values = torch.tensor([10.0, 20.0, 30.0, 40.0, 0.0]).view(5, 1, 1)
    out = paged_decode_chunked(torch.ones(1, 1, 1), keys, values, torch.tensor([[0, 1]]), torch.tensor([4]), 2,
                               chunk_blocks=1)
    assert round(out.item(), 2) == 36.88


def test_answer_padding_waste():
    lens = [5, 40, 17, 90]
    padded, packed = len(lens) * max(lens), sum(lens)
    assert (padded, packed) == (360, 152)
    assert round(1 - packed / padded, 3) == 0.578
    assert [0, *torch.tensor(lens).cumsum(0).tolist()] == [0, 5, 45, 62, 152]  # cu_seqlens
