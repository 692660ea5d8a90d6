"""Our Mamba against Hugging Face's MambaForCausalLM (pure-PyTorch path) on the same weights."""
import math

import pytest
import torch
from dlc_shared.testing import assert_close

from hf import hf_generate, hf_mamba, ours_from
from model import MambaConfig, greedy_full

CFG = MambaConfig(vocab_size=256, d_model=32, n_layers=2, d_state=8, tie_embeddings=False)
T = 24


@pytest.fixture(scope="module")
def pair():
    hf = hf_mamba(CFG)
    return hf, ours_from(hf)


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, CFG.vocab_size, (2, T), generator=torch.Generator().manual_seed(0))


def tol_args(T, parallel):
    # longest reduction: the scan's T * N products, or out_proj's d_inner; chained: layers (x scan rounds)
    rounds = math.ceil(math.log2(T)) if parallel else 1
    return dict(terms=max(CFG.d_inner, T * CFG.d_state), depth=CFG.n_layers * rounds)


@pytest.mark.parametrize("parallel", [False, True])
def test_logits_equal_transformers(pair, ids, parallel):
    hf, ours = pair
    with torch.no_grad():
        ref, out = hf(ids).logits, ours(ids, parallel=parallel)
    assert ref.std() > 0.3  # the seeded model's logits are not flat
    assert_close(out, ref, torch.float32, **tol_args(T, parallel))


def test_tied_head_loads_and_matches():
    cfg = MambaConfig(vocab_size=128, d_model=32, n_layers=1, d_state=4)
    hf = hf_mamba(cfg, seed=3)
    ours = ours_from(hf)
    assert ours.lm_head is None
    x = torch.randint(0, 128, (1, 10), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert_close(ours(x), hf(x).logits, torch.float32, terms=10 * 4 + 64, depth=1)


def test_greedy_tokens_equal_transformers_generate(pair, ids):
    hf, ours = pair
    prompt = ids[:, :6]
    ref = hf_generate(hf, prompt, 16)
    assert all(len(set(row[6:].tolist())) > 4 for row in ref)  # varied output, not one token repeated
    assert torch.equal(greedy_full(ours, prompt, 16), ref)


def test_later_tokens_do_not_change_earlier_logits(pair, ids):
    _, ours = pair
    changed = ids.clone()
    changed[:, 12:] = (changed[:, 12:] + 1) % CFG.vocab_size
    with torch.no_grad():
        a, b = ours(ids), ours(changed)
    assert_close(b[:, :12], a[:, :12], torch.float32, **tol_args(T, True))
    assert (b[:, 12:] - a[:, 12:]).abs().max() > 1.0


@pytest.mark.parametrize("param", ["D", "dt_proj.bias", "conv1d.weight"])
def test_every_piece_is_checked(pair, ids, param):
    """Zeroing one parameter of the mixer (the skip D, the bias of delta, the conv) must break the equality."""
    hf, _ = pair
    ours = ours_from(hf)
    with torch.no_grad():
        ours.layers[0].mixer.get_parameter(param).zero_()
        ref, out = hf(ids).logits, ours(ids)
    with pytest.raises(AssertionError):
        assert_close(out, ref, torch.float32, **tol_args(T, True))
