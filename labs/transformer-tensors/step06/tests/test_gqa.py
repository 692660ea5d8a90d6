"""GQA against Hugging Face Llama attention and PyTorch's SDPA with enable_gqa; traced shapes and counts."""
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaAttention, LlamaRotaryEmbedding

from dlc_shared.testing import assert_close
from attention import SelfAttention
from config import Config
from shapetrace import ShapeTrace

B, T, D = 2, 6, 32


def make(n_heads=4, n_kv_heads=2, pos="learned", seed=0):
    torch.manual_seed(seed)
    cfg = Config(vocab_size=50, dim=D, max_seq_len=12, pos=pos, n_heads=n_heads, n_kv_heads=n_kv_heads)
    return cfg, SelfAttention(cfg), torch.randn(B, T, D)


def test_matches_hugging_face_llama_attention():
    cfg, attn, x = make(pos="rope")
    hf_cfg = LlamaConfig(hidden_size=D, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=12,
                         rope_theta=cfg.rope_theta, vocab_size=50, num_hidden_layers=1, intermediate_size=64,
                         attn_implementation="eager")
    ref = LlamaAttention(hf_cfg, layer_idx=0)
    with torch.no_grad():
        for mine, theirs in ((attn.wq, ref.q_proj), (attn.wk, ref.k_proj), (attn.wv, ref.v_proj), (attn.wo, ref.o_proj)):
            theirs.weight.copy_(mine.weight)
    cos_sin = LlamaRotaryEmbedding(hf_cfg)(x, torch.arange(T)[None])
    future = torch.full((T, T), float("-inf")).triu(1)[None, None]  # additive mask (1, 1, T, T)
    expected, _ = ref(x, position_embeddings=cos_sin, attention_mask=future)
    assert expected.std() > 0.1
    # q/k/v, rope, q kᵀ, probs·v, Wo: five stages, the longest reduction over D features
    assert_close(attn(x), expected, torch.float32, terms=D, depth=5)


@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])  # MQA, GQA, MHA
def test_matches_sdpa_with_enable_gqa(n_kv_heads):
    cfg, attn, x = make(n_kv_heads=n_kv_heads)
    H, d = cfg.n_heads, cfg.head_dim
    q = attn.wq(x).view(B, T, H, d).transpose(1, 2)
    k = attn.wk(x).view(B, T, n_kv_heads, d).transpose(1, 2)
    v = attn.wv(x).view(B, T, n_kv_heads, d).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    expected = attn.wo(out.transpose(1, 2).reshape(B, T, D))
    assert expected.std() > 0.1
    assert_close(attn(x), expected, torch.float32, terms=D, depth=4)  # q/k/v, q kᵀ, probs·v, Wo


def test_trace_shapes_and_counts_follow_formulas():
    cfg, attn, x = make(n_heads=4, n_kv_heads=2)
    H, H_kv, d = 4, 2, cfg.head_dim
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        attn(x)
    assert trace["k = x Wk"].shape == trace["v = x Wv"].shape == (B, T, H_kv * d)
    assert trace["k split"].shape == trace["v split"].shape == (B, H_kv, T, d)
    assert trace["k repeated"].shape == trace["v repeated"].shape == (B, H, T, d)
    assert trace["k = x Wk"].params == D * H_kv * d
    assert trace.params == 2 * D * D + 2 * D * H_kv * d == sum(p.numel() for p in attn.parameters())
    expected_flops = 2 * B * T * (2 * D * D + 2 * D * H_kv * d) + 2 * 2 * B * H * T * T * d
    assert trace.flops == expected_flops == counter.get_total_flops()


def test_mha_has_no_repeat_rows():
    cfg, attn, x = make(n_kv_heads=4)
    with ShapeTrace() as trace:
        attn(x)
    assert not any("repeated" in r.name for r in trace.rows)


def test_kv_heads_must_divide_heads():
    with pytest.raises(ValueError, match="multiple"):
        Config(dim=D, n_heads=4, n_kv_heads=3)
