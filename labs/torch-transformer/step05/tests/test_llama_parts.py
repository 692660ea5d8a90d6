"""RMSNorm, the SwiGLU MLP and the whole block against Hugging Face transformers' Llama modules."""
import numpy as np
import pytest
import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaMLP, LlamaRMSNorm

from dlc_shared.testing import assert_close
from model import MLP, Block, Config, RMSNorm

CFG = Config(vocab_size=50, block_size=16, n_embd=32, n_head=4, n_layer=2)


def llama_config(cfg: Config) -> LlamaConfig:
    hf = LlamaConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.n_embd, intermediate_size=cfg.ffn_dim,
                     num_attention_heads=cfg.n_head, num_key_value_heads=cfg.n_head,
                     num_hidden_layers=cfg.n_layer, rms_norm_eps=cfg.norm_eps, hidden_act="silu")
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


def test_block_matches_llama_decoder_layer_with_rotation_switched_off():
    # Llama rotates q and k by (cos, sin); cos = 1, sin = 0 is no rotation, which is this step's attention.
    torch.manual_seed(0)
    block = Block(CFG)
    with torch.no_grad():
        block.attention_norm.weight.normal_(1.0, 0.2)
        block.ffn_norm.weight.normal_(1.0, 0.2)
    ref = LlamaDecoderLayer(llama_config(CFG), layer_idx=0).eval()
    a, f = block.attention, block.feed_forward
    with torch.no_grad():
        for ours, theirs in [(a.wq, ref.self_attn.q_proj), (a.wk, ref.self_attn.k_proj), (a.wv, ref.self_attn.v_proj),
                             (a.wo, ref.self_attn.o_proj), (f.w1, ref.mlp.gate_proj), (f.w3, ref.mlp.up_proj),
                             (f.w2, ref.mlp.down_proj), (block.attention_norm, ref.input_layernorm),
                             (block.ffn_norm, ref.post_attention_layernorm)]:
            theirs.weight.copy_(ours.weight)
    B, T, hd = 2, 9, CFG.n_embd // CFG.n_head
    x = torch.randn(B, T, CFG.n_embd)
    no_rotation = (torch.ones(B, T, hd), torch.zeros(B, T, hd))
    causal = torch.full((T, T), float("-inf")).triu(1)[None, None]     # additive mask, (1, 1, T, T)
    expected = ref(x, attention_mask=causal, position_embeddings=no_rotation)
    # Attention (4 matmul stages) then the MLP (2); the longest reduction is the MLP's hidden width.
    assert_close(block(x), expected, torch.float32, terms=CFG.ffn_dim, depth=6)
