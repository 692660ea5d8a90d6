"""The calculator against independent numbers: parameter counts by hand and from Hugging Face
transformers models, memory of a real (tiny) training step measured with hooks and torch.optim."""
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM

import calc
from block import all_params, init_params, lm_loss
from calc import GIB, block_config, param_count, training_memory
from configs import MODELS
from memory import SavedTensorMeter
from optim_state import make_optimizer, measured_bytes


def test_llama_3_8b_parameter_count_by_hand():
    d, layers, vocab = 4096, 32, 128256
    q_and_o = 2 * 4096 * 4096  # 32 heads x 128 dims = 4096, in and out
    k_and_v = 2 * 4096 * 1024  # 8 key/value heads x 128 dims = 1024
    mlp = 3 * 4096 * 14336
    per_layer = q_and_o + k_and_v + mlp + 2 * d  # + two RMSNorm weight vectors
    by_hand = 2 * vocab * d + layers * per_layer + d  # embedding, untied head, final norm
    assert by_hand == 8_030_261_248  # the "8B": 8.03e9
    assert param_count(MODELS["llama-3-8b"]) == by_hand


def hf_sizes(**overrides):
    sizes = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=32, vocab_size=100, tie_word_embeddings=False)
    return {**sizes, **overrides}


@pytest.mark.parametrize("family, config_cls, model_cls", [("llama", LlamaConfig, LlamaForCausalLM),
                                                           ("qwen3", Qwen3Config, Qwen3ForCausalLM)])
@pytest.mark.parametrize("tied", [False, True])
def test_parameter_count_matches_transformers(family, config_cls, model_cls, tied):
    sizes = hf_sizes(tie_word_embeddings=tied)  # head_dim 32 != 64 / 4 on purpose
    model = model_cls(config_cls(**sizes))
    actual = sum(p.numel() for p in model.parameters())  # a tied weight is listed once
    assert param_count({"family": family, **sizes}) == actual


def test_memory_of_a_tiny_training_step_is_measured():
    """One mixed-precision Adam step of this lab's own model, with the shapes of a config dict."""
    model = {"family": "llama", **hf_sizes()}
    batch, seq = 2, 24
    cfg = block_config(model, "sdpa", checkpoint=True)
    params = init_params(cfg, dtype=torch.bfloat16)
    flat = all_params(params)
    assert sum(p.numel() for p in flat) == param_count(model)
    opt = make_optimizer("mixed-adam", flat)
    gen = torch.Generator().manual_seed(0)
    idx, targets = (torch.randint(0, cfg.vocab, (batch, seq), generator=gen) for _ in range(2))
    with SavedTensorMeter(flat) as meter:
        lm_loss(idx, targets, params, cfg).backward()
    opt.step()
    measured = measured_bytes(flat, opt)
    predicted = training_memory(model, batch, seq, "mixed-adam", "sdpa", checkpoint=True)
    assert measured["weights"] == predicted["weights"] and measured["grads"] == predicted["grads"]
    assert measured["optimizer"] - predicted["optimizer"] == 4 * len(flat)  # Adam's step counters
    assert meter.peak == predicted["activations"]


def test_llama_3_8b_full_fine_tuning_does_not_fit_in_80_gib():
    mem = training_memory(MODELS["llama-3-8b"], batch=1, seq=4096)
    # mixed precision + Adam: 16 bytes per parameter before any activation
    assert mem["weights"] + mem["grads"] + mem["optimizer"] == 16 * 8_030_261_248
    assert mem["total"] > 80 * GIB
    small = training_memory(MODELS["qwen3-0.6b"], batch=1, seq=4096, checkpoint=True)
    assert small["total"] < 80 * GIB


@pytest.mark.parametrize("args", [["--model", "gpt-5"], ["--batch", "0"], ["--gpu-memory", "-3"],
                                  ["--optimizer", "lion"], ["--seq", "many"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        calc.main(args)
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "error:" in err[-1] and len(err[-1]) < 300


def test_cli_prints_a_verdict(capsys):
    calc.main(["--model", "llama-3-8b", "--seq", "4096"])
    out = capsys.readouterr().out
    assert "8,030,261,248" in out and "fits in 80 GiB: no" in out
    calc.main([])
    out = capsys.readouterr().out
    assert all(name in out for name in MODELS)
