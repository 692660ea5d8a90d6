"""GQA and MQA: the cache shrinks by H/H_kv, and the outputs equal an MHA model whose kv heads are repeated."""
import pytest
import torch
from dlc_shared.testing import assert_close
from transformers import Qwen3Config, Qwen3ForCausalLM

from costs import kv_bytes
from decoder import Decoder

H = 4
CFG = dict(vocab_size=256, hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=H,
           head_dim=16, initializer_range=0.1)


def hf_model(kv_heads):
    torch.manual_seed(0)
    return Qwen3ForCausalLM(Qwen3Config(**CFG, num_key_value_heads=kv_heads)).eval()


def repeated_kv_state(state, kv_heads):
    """Written here, apart from the code under test: kv head j's rows copied to query heads j*g .. j*g+g-1."""
    g, d = H // kv_heads, CFG["head_dim"]
    out = dict(state)
    for name, w in state.items():
        if name.endswith(("k_proj.weight", "v_proj.weight")):
            out[name] = torch.cat([w[(h // g) * d:(h // g + 1) * d] for h in range(H)])
    return out


def cached_logits(model, ids):
    cache = model.new_cache(ids.shape[0], ids.shape[1])
    with torch.no_grad():
        logits = torch.cat([model(ids[:, :6], cache)] + [model(ids[:, p:p + 1], cache) for p in range(6, ids.shape[1])], 1)
    return logits, cache


@pytest.mark.parametrize("kv_heads", [1, 2])
def test_gqa_equals_transformers_mha_with_repeated_kv_heads(kv_heads):
    gqa_hf = hf_model(kv_heads)
    mha_hf = hf_model(H)
    mha_hf.load_state_dict(repeated_kv_state(gqa_hf.state_dict(), kv_heads))
    ids = torch.randint(0, 256, (2, 10), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = mha_hf(ids).logits
    assert len(set(ref.argmax(-1).flatten().tolist())) > 4
    got, cache = cached_logits(Decoder.from_hf(gqa_hf), ids)
    assert_close(got, ref, torch.float32, terms=CFG["intermediate_size"], depth=CFG["num_hidden_layers"] + 1)
    _, mha_cache = cached_logits(Decoder.from_hf(mha_hf), ids)
    assert mha_cache.nbytes() == cache.nbytes() * (H // kv_heads)


@pytest.mark.parametrize("kv_heads", [1, 2, 4])
def test_to_mha_gives_the_same_outputs_and_a_bigger_cache(kv_heads):
    model = Decoder.from_hf(hf_model(kv_heads))
    ids = torch.randint(0, 256, (1, 9), generator=torch.Generator().manual_seed(1))
    got, cache = cached_logits(model, ids)
    ref, mha_cache = cached_logits(model.to_mha(), ids)
    assert_close(got, ref, torch.float32, terms=CFG["intermediate_size"], depth=CFG["num_hidden_layers"] + 1)
    # 2 * layers * kv heads * head_dim * positions * fp32
    assert cache.nbytes() == 2 * 2 * kv_heads * 16 * 9 * 4 == kv_bytes(model.shape, 9, 4)
    assert mha_cache.nbytes() == 2 * 2 * H * 16 * 9 * 4
