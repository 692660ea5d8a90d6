"""RMSNorm, SwiGLU, RoPE, GQA attention and the whole block against Hugging Face transformers' Llama modules."""
import numpy as np
import pytest
import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import (LlamaAttention, LlamaDecoderLayer, LlamaMLP, LlamaRMSNorm,
                                                      LlamaRotaryEmbedding, apply_rotary_pos_emb)

from dlc_shared.testing import assert_close
from model import MLP, Block, CausalSelfAttention, Config, RMSNorm, apply_rope, rope_tables

CFG = Config(vocab_size=50, block_size=16, n_embd=32, n_head=4, n_kv_head=2, n_layer=2, rope_theta=500000.0)


def llama_config(cfg: Config) -> LlamaConfig:
    hf = LlamaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.n_embd, intermediate_size=cfg.ffn_dim,
                     num_attention_heads=cfg.n_head, num_key_value_heads=cfg.n_kv_head,
                     num_hidden_layers=cfg.n_layer, rms_norm_eps=cfg.norm_eps, hidden_act="silu",
                     rope_theta=cfg.rope_theta, max_position_embeddings=cfg.block_size)
    hf._attn_implementation = "eager"      # the plain matmul-softmax-matmul path
    return hf


def test_ffn_dim_is_about_eight_thirds_of_d():
    assert Config(n_embd=64).ffn_dim == 176            # 8 * 64 / 3 = 170.7, rounded up to 16 * 11
    assert Config(n_embd=4096).ffn_dim == 10928        # 10922.7 -> 10928 (Llama 2 7B rounds to 256: 11008)


# Both norms reduce in float32; in bf16 only the two casts back (x, then weight * x) round in bf16.
@pytest.mark.parametrize("dtype,terms", [(torch.float32, CFG.n_embd), (torch.bfloat16, 1)])
def test_rmsnorm_matches_float64_numpy_and_llama_rmsnorm(dtype, terms):
    torch.manual_seed(0)
    norm = RMSNorm(CFG.n_embd, CFG.norm_eps)
    with torch.no_grad():
        norm.weight.normal_(1.0, 0.3)
    ref = LlamaRMSNorm(CFG.n_embd, eps=CFG.norm_eps)
    ref.weight.data.copy_(norm.weight)
    x = 3 * torch.randn(4, 7, CFG.n_embd)
    x64, w64 = x.double().numpy(), norm.weight.detach().double().numpy()
    expected64 = x64 / np.sqrt((x64 ** 2).mean(-1, keepdims=True) + CFG.norm_eps) * w64
    assert_close(norm(x), expected64, torch.float32, terms=CFG.n_embd, depth=2)   # mean of squares, then scale
    norm, ref = norm.to(dtype), ref.to(dtype)
    assert_close(norm(x.to(dtype)), ref(x.to(dtype)), dtype, terms=terms, depth=2)


def test_swiglu_mlp_matches_llama_mlp():
    torch.manual_seed(0)
    mlp = MLP(CFG)
    ref = LlamaMLP(llama_config(CFG))
    with torch.no_grad():                    # gate_proj = w1, up_proj = w3, down_proj = w2
        ref.gate_proj.weight.copy_(mlp.w1.weight)
        ref.up_proj.weight.copy_(mlp.w3.weight)
        ref.down_proj.weight.copy_(mlp.w2.weight)
    x = torch.randn(3, 5, CFG.n_embd)
    assert_close(mlp(x), ref(x), torch.float32, terms=CFG.ffn_dim, depth=2)   # w1/w3 (K = D), then w2 (K = ffn_dim)


def llama_rope(T):
    """Hugging Face's cos/sin tables for positions 0..T-1, shape (1, T, head_dim)."""
    rotary = LlamaRotaryEmbedding(llama_config(CFG))
    return rotary(torch.zeros(1, T, CFG.n_embd), torch.arange(T)[None])


def copy_attention(ours: CausalSelfAttention, theirs: LlamaAttention) -> None:
    with torch.no_grad():
        for a, b in [(ours.wq, theirs.q_proj), (ours.wk, theirs.k_proj), (ours.wv, theirs.v_proj), (ours.wo, theirs.o_proj)]:
            b.weight.copy_(a.weight)


def causal_mask(T):
    return torch.full((T, T), float("-inf")).triu(1)[None, None]     # additive mask, (1, 1, T, T)


def test_rope_tables_and_rotation_match_llama():
    T, hd = 16, CFG.n_embd // CFG.n_head
    cos_ref, sin_ref = llama_rope(T)
    cos, sin = rope_tables(hd, T, CFG.rope_theta)
    # An angle pos * w is rounded in fp32 to eps * pos radians, so cos and sin carry that error: scale T.
    assert_close(cos, cos_ref[0], torch.float32, depth=2, scale=T)   # w = theta^(-2i/d), then pos * w
    assert_close(sin, sin_ref[0], torch.float32, depth=2, scale=T)
    q, k = torch.randn(2, 4, T, hd), torch.randn(2, 2, T, hd)
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos_ref, sin_ref)
    # The tables' angle error (eps * T radians) times |q|: x * cos + rotate_half(x) * sin adds two terms.
    assert_close(apply_rope(q, cos, sin), q_ref, torch.float32, terms=2, depth=3, scale=T * float(q.abs().max()))
    assert_close(apply_rope(k, cos, sin), k_ref, torch.float32, terms=2, depth=3, scale=T * float(k.abs().max()))


@pytest.mark.parametrize("n_kv_head", [4, 2, 1])     # MHA, GQA, MQA
def test_gqa_attention_matches_llama_attention(n_kv_head):
    torch.manual_seed(n_kv_head)
    cfg = Config(**{**CFG.__dict__, "n_kv_head": n_kv_head})
    attn = CausalSelfAttention(cfg)
    ref = LlamaAttention(llama_config(cfg), layer_idx=0).eval()
    copy_attention(attn, ref)
    T = 13
    x = torch.randn(2, T, cfg.n_embd)
    expected, _ = ref(x, position_embeddings=llama_rope(T), attention_mask=causal_mask(T))
    # Four chained matmul stages: the q/k/v projections (K = n_embd), q.k, weights.v, the output projection.
    assert_close(attn(x), expected, torch.float32, terms=CFG.n_embd, depth=4)


def test_block_matches_llama_decoder_layer():
    torch.manual_seed(0)
    block = Block(CFG)
    with torch.no_grad():
        block.attention_norm.weight.normal_(1.0, 0.2)
        block.ffn_norm.weight.normal_(1.0, 0.2)
    ref = LlamaDecoderLayer(llama_config(CFG), layer_idx=0).eval()
    copy_attention(block.attention, ref.self_attn)
    f = block.feed_forward
    with torch.no_grad():
        for ours, theirs in [(f.w1, ref.mlp.gate_proj), (f.w3, ref.mlp.up_proj), (f.w2, ref.mlp.down_proj),
                             (block.attention_norm, ref.input_layernorm), (block.ffn_norm, ref.post_attention_layernorm)]:
            theirs.weight.copy_(ours.weight)
    T = 9
    x = torch.randn(2, T, CFG.n_embd)
    expected = ref(x, attention_mask=causal_mask(T), position_embeddings=llama_rope(T))
    # Attention (4 matmul stages) then the MLP (2); the longest reduction is the MLP's hidden width.
    assert_close(block(x), expected, torch.float32, terms=CFG.ffn_dim, depth=6)
