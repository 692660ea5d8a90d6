"""The KV cache changes the work, not the result: cached logits and tokens equal the uncached ones."""
import pytest
import torch

from dlc_shared.testing import assert_close
from model import Config, LanguageModel

V = 50
CFG = Config(vocab_size=V, block_size=24, n_embd=32, n_head=4, n_kv_head=2, n_layer=2)


def make_model(seed=0):
    torch.manual_seed(seed)
    model = LanguageModel(CFG).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5)          # large weights: varied greedy tokens
    return model


@pytest.mark.parametrize("prompt_len", [1, 4, 9])
def test_greedy_tokens_are_identical_with_and_without_the_cache(prompt_len):
    model = make_model(prompt_len)
    prompt = torch.randint(V, (3, prompt_len), generator=torch.Generator().manual_seed(prompt_len))
    new = CFG.block_size - prompt_len
    uncached = model.generate(prompt, new, temperature=0, use_cache=False)
    cached = model.generate(prompt, new, temperature=0, use_cache=True)
    assert len(set(uncached[:, prompt_len:].flatten().tolist())) > 3    # varied: the comparison means something
    assert torch.equal(cached, uncached)


def test_decoding_one_token_at_a_time_gives_the_full_forward_logits():
    model = make_model()
    idx = torch.randint(V, (2, 20))
    full, _ = model(idx)
    cache = model.new_cache(batch_size=2)
    steps = [model(idx[:, t:t + 1], cache=cache)[0] for t in range(20)]
    # One token at a time runs GEMVs where the full pass runs GEMMs: rounding differs. Longest reduction: the
    # MLP's ffn_dim; depth: 6 matmul stages per block (q/k/v, q.k, weights.v, wo; w1/w3, w2), then the head.
    assert_close(torch.cat(steps, dim=1), full, torch.float32, terms=CFG.ffn_dim, depth=6 * CFG.n_layer + 1)
    assert all(c.length == 20 for c in cache)


def test_prefill_in_chunks_equals_one_prefill():
    # Chunks of 7, 1 and 5 tokens: the mask rows start at the cache length, not at 0.
    model = make_model(1)
    idx = torch.randint(V, (2, 13))
    full, _ = model(idx)
    cache = model.new_cache(batch_size=2)
    parts = [model(idx[:, a:b], cache=cache)[0] for a, b in [(0, 7), (7, 8), (8, 13)]]
    assert_close(torch.cat(parts, dim=1), full, torch.float32, terms=CFG.ffn_dim, depth=6 * CFG.n_layer + 1)


def test_cache_holds_the_keys_a_full_forward_computes():
    # Capture k from the wk projection in a full pass, rotate it with the model's tables, compare with the cache.
    model = make_model(2)
    idx = torch.randint(V, (1, 10))
    cache = model.new_cache(batch_size=1)
    model(idx, cache=cache)
    attn = model.layers[0].attention
    x = model.layers[0].attention_norm(model.token_embedding(idx))
    k = attn.wk(x).view(1, 10, CFG.n_kv_head, -1).transpose(1, 2)
    x1, x2 = k.chunk(2, dim=-1)
    k_rot = k * attn.cos[:10] + torch.cat([-x2, x1], dim=-1) * attn.sin[:10]
    assert_close(cache[0].k[:, :, :10], k_rot, torch.float32, terms=CFG.n_embd, depth=2)   # wk, then the rotation
    assert cache[0].k.shape == (1, CFG.n_kv_head, CFG.block_size, CFG.n_embd // CFG.n_head)   # Hkv, not H


def test_generate_sizes_the_cache_by_the_request(monkeypatch):
    # prompt + new tokens, not block_size: a model allowing 40,960 positions must not reserve them all.
    model = make_model()
    sizes, new_cache = [], model.new_cache
    monkeypatch.setattr(model, "new_cache", lambda batch_size, max_len=None: sizes.append(max_len) or
                        new_cache(batch_size, max_len))
    model.generate(torch.zeros((1, 5), dtype=torch.long), 7, temperature=0)
    assert sizes == [12]


def test_cache_refuses_more_than_block_size_positions():
    model = make_model()
    with pytest.raises(ValueError, match="block_size"):
        model.generate(torch.zeros((1, 5), dtype=torch.long), CFG.block_size, use_cache=True)
    # Without a cache the window slides, so long generations still work.
    out = model.generate(torch.zeros((1, 5), dtype=torch.long), CFG.block_size, temperature=0, use_cache=False)
    assert out.shape == (1, 5 + CFG.block_size)
