"""Our model loaded with Hugging Face Llama / Qwen3 weights gives their logits (fp32 rounding) and greedy tokens."""
import pytest
import torch

from dlc_shared.testing import assert_close, tolerance
from compare_hf import tiny_hf_model
from hf import from_hf, our_name

PROMPT_LEN, NEW_TOKENS = 5, 30


def logits_bound(config) -> dict:
    """terms and depth of fp32 logits: the longest reduction is the MLP's hidden width; each decoder layer
    chains 6 matmul stages (q/k/v, q.k, weights.v, o_proj; gate/up, down), then the head adds one."""
    return dict(terms=config.intermediate_size, depth=6 * config.num_hidden_layers + 1)


@pytest.fixture(scope="module", params=["llama", "qwen3", "qwen3-tied"])
def models(request):
    kind = request.param.split("-")[0]
    tied = request.param.endswith("tied")
    hf_model = tiny_hf_model(kind, seed=3, tie_word_embeddings=tied)
    state = hf_model.state_dict()
    if tied:
        # A tied checkpoint stores the matrix once (as safetensors does): the loader must reuse the embedding.
        assert state["lm_head.weight"].data_ptr() == state["model.embed_tokens.weight"].data_ptr()
        del state["lm_head.weight"]
    return hf_model, from_hf(hf_model.config, state)


def test_config_is_translated(models):
    hf_model, ours = models
    c = hf_model.config
    assert (ours.cfg.n_head, ours.cfg.n_kv_head, ours.cfg.n_layer) == (c.num_attention_heads, c.num_key_value_heads,
                                                                       c.num_hidden_layers)
    assert ours.cfg.rope_theta == c.rope_parameters["rope_theta"] and ours.cfg.norm_eps == c.rms_norm_eps
    assert ours.cfg.qk_norm == (c.model_type == "qwen3")
    if c.model_type == "qwen3":
        assert ours.cfg.head_dim == 32 != c.hidden_size // c.num_attention_heads   # a free head width
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in hf_model.parameters())


@torch.no_grad()
def test_logits_match_within_fp32_tolerance(models):
    hf_model, ours = models
    idx = torch.randint(hf_model.config.vocab_size, (3, 40), generator=torch.Generator().manual_seed(0))
    expected = hf_model(idx).logits
    assert expected.std() > 0.5                                 # real, spread-out logits, not ~0
    assert_close(ours(idx)[0], expected, torch.float32, **logits_bound(hf_model.config))


@torch.no_grad()
def test_greedy_generation_is_token_identical(models):
    hf_model, ours = models
    prompt = torch.randint(hf_model.config.vocab_size, (2, PROMPT_LEN), generator=torch.Generator().manual_seed(1))
    expected = hf_model.generate(prompt, max_new_tokens=NEW_TOKENS, do_sample=False)
    assert expected.shape == (2, PROMPT_LEN + NEW_TOKENS)
    assert len(set(expected[:, PROMPT_LEN:].flatten().tolist())) > 5   # varied: the comparison means something
    assert torch.equal(ours.generate(prompt, NEW_TOKENS, temperature=0, use_cache=True), expected)
    assert torch.equal(ours.generate(prompt, NEW_TOKENS, temperature=0, use_cache=False), expected)


@torch.no_grad()
def test_skipping_qwen3_qk_norm_breaks_the_match():
    # The check is sensitive: without the per-head q/k RMSNorm the logits are far off.
    hf_model = tiny_hf_model("qwen3", seed=3)
    ours = from_hf(hf_model.config, hf_model.state_dict())
    for layer in ours.layers:
        layer.attention.q_norm = layer.attention.k_norm = torch.nn.Identity()
    idx = torch.randint(256, (2, 20), generator=torch.Generator().manual_seed(0))
    expected = hf_model(idx).logits
    assert (ours(idx)[0] - expected).abs().max() > tolerance(torch.float32, expected.abs().max(),
                                                             **logits_bound(hf_model.config))


def test_unknown_weights_and_unsupported_configs_are_refused():
    with pytest.raises(ValueError, match="no counterpart"):
        our_name("model.layers.0.self_attn.q_proj.bias")
    hf_model = tiny_hf_model("llama", rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4})
    with pytest.raises(ValueError, match="RoPE scaling"):
        from_hf(hf_model.config, hf_model.state_dict())
    hf_model = tiny_hf_model("llama", attention_bias=True)
    with pytest.raises(ValueError, match="biases"):
        from_hf(hf_model.config, hf_model.state_dict())
