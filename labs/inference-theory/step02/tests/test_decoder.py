"""Our decoder with its preallocated cache against transformers, and the cache's bytes against the formula."""
import pytest
import torch
from dlc_shared.testing import assert_close
from transformers import Qwen3Config, Qwen3ForCausalLM

from costs import Shape, kv_bytes
from decoder import Decoder, KVCache

CFG = dict(vocab_size=256, hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, head_dim=16, initializer_range=0.1)  # 0.1: greedy tokens vary


@pytest.fixture(scope="module")
def hf():
    torch.manual_seed(0)
    return Qwen3ForCausalLM(Qwen3Config(**CFG)).eval()


@torch.no_grad()
def test_cached_decode_equals_the_full_forward_of_transformers(hf):
    model = Decoder.from_hf(hf)
    ids = torch.randint(0, 256, (2, 12), generator=torch.Generator().manual_seed(0))
    ref = hf(ids).logits
    assert len(set(ref.argmax(-1).flatten().tolist())) > 4  # a seeded model that says something
    cache = model.new_cache(2, 16)
    got = torch.cat([model(ids[:, :8], cache)] + [model(ids[:, p:p + 1], cache) for p in range(8, 12)], 1)
    assert cache.length == 12
    # longest reduction: the MLP's d_ff; rounding chains through both layers and the lm_head
    assert_close(got, ref, torch.float32, terms=CFG["intermediate_size"], depth=CFG["num_hidden_layers"] + 1)


@pytest.mark.parametrize("dtype,elt", [(torch.float32, 4), (torch.bfloat16, 2)])
@pytest.mark.parametrize("batch,max_len", [(1, 7), (3, 64)])
def test_cache_nbytes_equal_the_formula(dtype, elt, batch, max_len):
    s = Shape(3, 64, 8, 2, 16, 96, 128)
    cache = KVCache(s, batch, max_len, dtype)
    # written out: 2 (K and V) * 3 layers * 2 kv heads * 16 wide * positions * batch * bytes
    assert cache.nbytes() == 2 * 3 * 2 * 16 * max_len * batch * elt == kv_bytes(s, max_len, elt, batch)


def test_the_cache_refuses_a_pass_past_its_length(hf):
    model = Decoder.from_hf(hf)
    cache = model.new_cache(1, 4)
    with torch.no_grad():
        model(torch.zeros(1, 4, dtype=torch.long), cache)
        with pytest.raises(ValueError, match="holds 4 positions"):
            model(torch.zeros(1, 1, dtype=torch.long), cache)
