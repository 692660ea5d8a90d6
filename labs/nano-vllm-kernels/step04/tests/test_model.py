"""Our Qwen3 loads the Hugging Face folder and computes the same logits as transformers (float32)."""
import torch
from dlc_shared.testing import assert_close

from attention import PagedAttention, PagedKVCache, causal_attention, token_slots
from model import Qwen3ForCausalLM
from tiny_model import random_prompts


def paged_context(model, lens, block_tables, block_size=4, num_blocks=64, kv=None):
    """A PagedAttention for requests that bring all of their `lens` tokens at once."""
    c = model.config
    kv = kv or PagedKVCache(c.num_hidden_layers, num_blocks, block_size, c.num_key_value_heads, c.head_dim)
    slots = torch.cat([token_slots(bt, block_size, 0, n) for bt, n in zip(block_tables, lens)])
    return PagedAttention(kv, lens, lens, slots, block_tables)


def logits_close(ours, ref, config):
    """Rounding only (another kernel, another summation order): the longest reduction feeding a logit is
    the MLP's down projection (intermediate_size terms); every layer chains one more stage, the lm_head one."""
    assert_close(ours, ref, torch.float32, terms=config.intermediate_size, depth=config.num_hidden_layers + 1)


def test_logits_match_transformers(model_dir, hf_model):
    model = Qwen3ForCausalLM.from_pretrained(model_dir)
    for prompt in random_prompts(3, 1, 40, model.config.vocab_size, seed=7):
        ids = torch.tensor(prompt)
        with torch.inference_mode():
            ours = model.compute_logits(model(ids, torch.arange(len(prompt)), paged_context(model, [len(prompt)], [list(range(10))])))
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
        tables = [[9, 3, 17, 5, 0], [2, 11, 4, 30, 1], [7, 6, 40, 8, 12]]  # blocks scattered over the pool
        ctx = paged_context(model, [len(p) for p in prompts], tables)
        packed = model.compute_logits(model(ids, positions, ctx))
        refs = [hf_model(torch.tensor([p])).logits[0] for p in prompts]
    logits_close(packed, torch.cat(refs), model.config)


def test_decoding_from_the_cache_matches_a_full_forward(model_dir, hf_model):
    model = Qwen3ForCausalLM.from_pretrained(model_dir)
    prompt = random_prompts(1, 12, 12, model.config.vocab_size, seed=9)[0]
    table = [6, 2, 9]  # 12 tokens in 3 blocks of 4
    ctx = paged_context(model, [8], [table])
    with torch.inference_mode():
        model(torch.tensor(prompt[:8]), torch.arange(8), ctx)  # prefill 8 tokens
        decoded = []
        for pos in range(8, 12):  # then one token at a time, its key and value stored in slot `pos`
            step = PagedAttention(ctx.kv_cache, [1], [pos + 1], token_slots(table, 4, pos, pos + 1), [table])
            decoded.append(model.compute_logits(model(torch.tensor(prompt[pos:pos + 1]), torch.tensor([pos]), step)))
        ref = hf_model(torch.tensor([prompt])).logits[0, 8:]
    logits_close(torch.cat(decoded), ref, model.config)
