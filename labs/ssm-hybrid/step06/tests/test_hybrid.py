"""The hybrid against transformers' JambaForCausalLM (no experts) on the same weights: logits, decode steps,
greedy tokens; both kinds of state measured against the formula."""
from dataclasses import replace

import pytest
import torch
from dlc_shared.testing import assert_close

from hf import hf_generate, hf_jamba
from hybrid import HybridConfig, HybridLM, HybridState, generate_hybrid, hybrid_bytes

CFG = HybridConfig(vocab_size=256, d_model=32, layer_types=("mamba", "attention", "mamba", "attention"))
TERMS = max(CFG.d_ff, 20 * CFG.d_state)  # the longest reduction: the MLP's d_ff or the scan's T * N


@pytest.fixture(scope="module")
def pair():
    hf = hf_jamba(CFG, CFG.layer_types)
    ours = HybridLM(CFG).eval()
    ours.load_hf_state_dict(hf.state_dict())
    return hf, ours


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, CFG.vocab_size, (2, 20), generator=torch.Generator().manual_seed(0))


def test_logits_equal_transformers_jamba(pair, ids):
    hf, ours = pair
    with torch.no_grad():
        ref, out = hf(ids).logits, ours(ids)
    assert_close(out, ref, torch.float32, terms=TERMS, depth=len(CFG.layer_types) * 5)  # parallel scan: 5 rounds


def test_decode_steps_equal_the_full_forward(pair, ids):
    hf, ours = pair
    state = HybridState(CFG, batch=2, max_len=20)
    with torch.no_grad():
        ref = hf(ids).logits
        steps = [ours(ids[:, :7], state)] + [ours(ids[:, t:t + 1], state) for t in range(7, 20)]
    assert_close(torch.cat(steps, 1), ref, torch.float32, terms=TERMS, depth=len(CFG.layer_types) * 14)


def test_greedy_tokens_equal_transformers_generate(pair, ids):
    hf, ours = pair
    prompt = ids[:, :6]
    ref = hf_generate(hf, prompt, 20)
    assert all(len(set(row[6:].tolist())) > 4 for row in ref)
    tokens, state = generate_hybrid(ours, prompt, 20)
    assert torch.equal(tokens, ref)
    assert state.nbytes() == hybrid_bytes(CFG, 26, batch=2)


def test_mamba_state_is_fixed_and_the_kv_part_grows(pair):
    _, ours = pair
    x = torch.randint(0, CFG.vocab_size, (1, 1024), generator=torch.Generator().manual_seed(1))
    ssm_bytes = 2 * 64 * (4 + 8) * 4  # 2 Mamba layers, d_inner 64, conv window 4 + d_state 8, fp32
    per_token = 2 * 2 * 2 * 8 * 4     # K and V, 2 attention layers, 2 kv heads of 8, fp32
    for length in (1, 9, 1024):
        state = HybridState(CFG, max_len=length)
        with torch.no_grad():
            if length > 1:
                ours(x[:, :length - 1], state)
            ours(x[:, length - 1:length], state)
        assert state.nbytes() == hybrid_bytes(CFG, length) == (ssm_bytes, per_token * length)


def test_the_layers_keep_their_kind_of_state():
    state = HybridState(CFG, max_len=8)
    kinds = [type(s).__name__ for s in state.layers]
    assert kinds == ["LayerState", "LayerKV", "LayerState", "LayerKV"]
    with pytest.raises(ValueError, match="layer types"):
        HybridConfig(layer_types=("mamba", "mlp"))


def test_without_the_inner_norms_the_logits_differ(pair, ids):
    """Jamba's Mamba layers normalize delta, B and C; a mixer that skips it must fail the comparison."""
    hf, ours = pair
    mixer = ours.layers[0].mamba
    plain = HybridLM(CFG).eval()
    plain.load_state_dict(ours.state_dict())
    plain.layers[0].mamba.cfg = replace(mixer.cfg, inner_norms=False)
    with torch.no_grad():
        ref, out = hf(ids).logits, plain(ids)
    with pytest.raises(AssertionError):
        assert_close(out, ref, torch.float32, terms=TERMS, depth=len(CFG.layer_types) * 5)
