"""Recurrent decoding against transformers: the full-sequence logits position by position, the cached states,
greedy tokens; the state's bytes against the formula at every length up to 4096."""
import pytest
import torch
from dlc_shared.testing import assert_close

from hf import hf_generate, hf_jamba, hf_mamba, ours_from
from model import MambaConfig, MambaState, generate, state_bytes
from transformer import KVCache, TransformerConfig, TransformerLM, generate_kv, kv_bytes

CFG = MambaConfig(vocab_size=256, d_model=32, n_layers=2, d_state=8, tie_embeddings=False)


@pytest.fixture(scope="module")
def pair():
    hf = hf_mamba(CFG)
    return hf, ours_from(hf)


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, CFG.vocab_size, (2, 24), generator=torch.Generator().manual_seed(0))


def test_decode_steps_equal_the_full_forward_of_transformers(pair, ids):
    hf, ours = pair
    ids = ids[:, :20]
    state = MambaState(CFG, batch=2)
    with torch.no_grad():
        ref = hf(ids).logits
        steps = [ours(ids[:, :5], state=state)] + [ours(ids[:, t:t + 1], state=state) for t in range(5, 20)]
    # each decode step chains one more rounding stage onto the state: depth = layers x steps
    assert_close(torch.cat(steps, 1), ref, torch.float32, terms=max(CFG.d_inner, 20 * CFG.d_state),
                 depth=CFG.n_layers * 16)
    assert state.seen == 20


def test_states_after_prefill_equal_transformers_cache(pair, ids):
    hf, ours = pair
    state = MambaState(CFG, batch=2)
    with torch.no_grad():
        out = hf(ids[:, :7], use_cache=True)
        ours(ids[:, :7], state=state)
    for i, layer in enumerate(state.layers):
        assert_close(layer.conv, out.cache.get_conv_state(i), torch.float32, terms=CFG.d_model, depth=i + 1)
        assert_close(layer.ssm, out.cache.get_recurrent_state(i), torch.float32, terms=7 * CFG.d_state, depth=i + 1)


def test_greedy_tokens_equal_transformers_generate(pair, ids):
    hf, ours = pair
    prompt = ids[:, :6]
    ref = hf_generate(hf, prompt, 16)  # the same request as test_model's: transformers runs it once
    assert all(len(set(row[6:].tolist())) > 4 for row in ref)
    tokens, state = generate(ours, prompt, 16)
    assert torch.equal(tokens, ref)
    assert state.nbytes() == state_bytes(CFG, batch=2)


def test_a_second_prefill_on_a_used_state_is_refused(pair, ids):
    _, ours = pair
    state = MambaState(CFG)
    ours(ids[:1, :4], state=state)
    with pytest.raises(ValueError, match="empty state"):
        ours(ids[:1, 4:8], state=state)


def test_state_bytes_per_request_are_constant_up_to_4096_tokens(pair):
    _, ours = pair
    x = torch.randint(0, CFG.vocab_size, (1, 4096), generator=torch.Generator().manual_seed(1))
    for length in (1, 17, 4096):
        state = MambaState(CFG)
        with torch.no_grad():
            if length > 1:
                ours(x[:, :length - 1], parallel=False, state=state)
            ours(x[:, length - 1:length], state=state)
        assert state.seen == length
        assert state.nbytes() == state_bytes(CFG) == 2 * 64 * (4 + 8) * 4 == 6144


def test_transformer_baseline_equals_transformers_and_its_cache_grows():
    cfg = TransformerConfig(vocab_size=256, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64)
    hf = hf_jamba(cfg, ("attention", "attention"))
    ours = TransformerLM(cfg).eval()
    ours.load_hf_state_dict(hf.state_dict())
    prompt = torch.randint(0, 256, (2, 6), generator=torch.Generator().manual_seed(2))
    ref = hf_generate(hf, prompt, 16)
    assert all(len(set(row[6:].tolist())) > 4 for row in ref)
    tokens, cache = generate_kv(ours, prompt, 16)
    assert torch.equal(tokens, ref)
    assert cache.nbytes() == kv_bytes(cfg, 22, batch=2) == 2 * 2 * 2 * 8 * 22 * 4 * 2
    with torch.no_grad():
        chunked = KVCache(cfg, 2, 22)
        parts = [ours(tokens[:, :9], chunked), ours(tokens[:, 9:14], chunked), ours(tokens[:, 14:], chunked)]
        assert_close(torch.cat(parts, 1), hf(tokens).logits, torch.float32, terms=cfg.d_ff, depth=cfg.n_layers)
