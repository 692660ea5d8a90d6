"""Our Qwen3 loads the Hugging Face folder and computes the same logits as transformers (float32)."""
import torch
from dlc_shared.testing import assert_close

from attention import CachedAttention, KVCache, causal_attention
from model import Qwen3ForCausalLM
from tiny_model import random_prompts


def logits_close(ours, ref, config):
    """Rounding only (another kernel, another summation order): the longest reduction feeding a logit is
    the MLP's down projection (intermediate_size terms); every layer chains one more stage, the lm_head one."""
    assert_close(ours, ref, torch.float32, terms=config.intermediate_size, depth=config.num_hidden_layers + 1)


def test_logits_match_transformers(model_dir, hf_model):
    model = Qwen3ForCausalLM.from_pretrained(model_dir)
    for prompt in random_prompts(3, 1, 40, model.config.vocab_size, seed=7):
        ids = torch.tensor(prompt)
        with torch.inference_mode():
            ours = model.compute_logits(model(ids, torch.arange(len(prompt)), CachedAttention([len(prompt)], [KVCache(2)])))
            ref = hf_model(ids[None]).logits[0]
        logits_close(ours, ref, model.config)


def test_config_is_read_from_the_folder(model_dir, hf_model):
    config = Qwen3ForCausalLM.from_pretrained(model_dir).config
    assert config.num_hidden_layers == hf_model.config.num_hidden_layers
    assert config.num_key_value_heads < config.num_attention_heads  # the tiny model really uses GQA
    assert config.rope_theta == hf_model.config.rope_parameters["rope_theta"]


def test_causal_attention_against_a_float64_loop():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 4, 8), torch.randn(5, 2, 8), torch.randn(5, 2, 8)  # 3 new queries over 5 keys
    out = causal_attention(q, k, v)
    q64, k64, v64 = q.double(), k.double(), v.double()
    for i in range(3):
        visible = 5 - 3 + i + 1  # query i sits at position 2 + i
        for h in range(4):
            kv = h // 2
            scores = (k64[:visible, kv] @ q64[i, h]) / 8 ** 0.5
            expected = torch.softmax(scores, 0) @ v64[:visible, kv]
            # float32 against float64: dot products of head_dim 8 terms, then a weighted average of <= 5 values
            # (which may cancel: the values' size is the scale).
            assert_close(out[i, h], expected, torch.float32, terms=8, depth=2, scale=v64[:visible, kv].abs().max())


def test_packed_requests_do_not_see_each_other(model_dir, hf_model):
    model = Qwen3ForCausalLM.from_pretrained(model_dir)
    prompts = random_prompts(3, 2, 20, model.config.vocab_size, seed=8)
    ids = torch.tensor([t for p in prompts for t in p])
    positions = torch.cat([torch.arange(len(p)) for p in prompts])
    with torch.inference_mode():
        ctx = CachedAttention([len(p) for p in prompts], [KVCache(2) for _ in prompts])
        packed = model.compute_logits(model(ids, positions, ctx))
        refs = [hf_model(torch.tensor([p])).logits[0] for p in prompts]
    logits_close(packed, torch.cat(refs), model.config)


def test_decoding_from_the_cache_matches_a_full_forward(model_dir, hf_model):
    model = Qwen3ForCausalLM.from_pretrained(model_dir)
    prompt = random_prompts(1, 12, 12, model.config.vocab_size, seed=9)[0]
    cache = KVCache(model.config.num_hidden_layers)
    with torch.inference_mode():
        model(torch.tensor(prompt[:8]), torch.arange(8), CachedAttention([8], [cache]))  # prefill 8 tokens
        decoded = [model.compute_logits(model(torch.tensor([t]), torch.tensor([8 + i]), CachedAttention([1], [cache])))
                   for i, t in enumerate(prompt[8:])]  # then one token at a time
        ref = hf_model(torch.tensor([prompt])).logits[0, 8:]
    assert cache.num_tokens == 12
    logits_close(torch.cat(decoded), ref, model.config)
