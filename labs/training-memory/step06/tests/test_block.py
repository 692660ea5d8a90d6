"""The Llama-style block against Hugging Face's LlamaDecoderLayer; its activation formula against hooks."""
import pytest
import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaDecoderLayer

from dlc_shared.testing import assert_close
from block import Config, all_params, block, init_params, lm_loss, model_activation_bytes
from memory import SavedTensorMeter

TINY = Config(vocab=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=48)


def hf_layer(cfg: Config, p: dict) -> LlamaDecoderLayer:
    hc = LlamaConfig(hidden_size=cfg.dim, intermediate_size=cfg.ffn_dim, num_attention_heads=cfg.n_heads,
                     num_key_value_heads=cfg.n_kv_heads, vocab_size=cfg.vocab, rms_norm_eps=1e-6,
                     attn_implementation="eager")
    layer = LlamaDecoderLayer(hc, 0).double()
    pairs = {"self_attn.q_proj": "wq", "self_attn.k_proj": "wk", "self_attn.v_proj": "wv", "self_attn.o_proj": "wo",
             "mlp.gate_proj": "w_gate", "mlp.up_proj": "w_up", "mlp.down_proj": "w_down"}
    with torch.no_grad():
        for name, key in pairs.items():
            layer.get_submodule(name).weight.copy_(p[key].T)  # nn.Linear stores (out, in)
    return layer


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_block_matches_hugging_face_llama_layer(attention):
    cfg = Config(**{**TINY.__dict__, "attention": attention})
    p = init_params(cfg, dtype=torch.float64)["layers"][0]
    b, t = 2, 8
    x = torch.randn(b, t, cfg.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    # RoPE switched off (cos = 1, sin = 0) because our block has no positional encoding
    cos = torch.ones(b, t, cfg.head_dim, dtype=torch.float64)
    sin = torch.zeros(b, t, cfg.head_dim, dtype=torch.float64)
    causal = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1).expand(b, 1, t, t)
    ref = hf_layer(cfg, p)(x, attention_mask=causal, position_embeddings=(cos, sin))
    ref = ref[0] if isinstance(ref, tuple) else ref
    assert ref.std() > 0.5 and (ref - x).abs().max() > 0.1  # varied, and the block changed x
    # HF computes RMSNorm in float32 even for float64 inputs, hence float32: norm, q/k/v, q kᵀ, probs·v, Wo,
    # norm, gate/up, down (eight stages); the longest reduction is the FFN's hidden width
    assert_close(block(x, p, cfg), ref, torch.float32, terms=cfg.ffn_dim, depth=8)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("batch, seq", [(1, 4), (2, 16), (3, 33)])
def test_model_activation_formula_matches_hooks(attention, dtype, batch, seq):
    cfg = Config(**{**TINY.__dict__, "attention": attention})
    params = init_params(cfg, dtype=dtype)
    gen = torch.Generator().manual_seed(1)
    idx, targets = torch.randint(0, cfg.vocab, (2, batch, seq), generator=gen)
    with SavedTensorMeter(all_params(params)) as meter:
        loss = lm_loss(idx, targets, params, cfg)
    assert torch.isfinite(loss)
    assert meter.bytes == model_activation_bytes(cfg, batch, seq, torch.finfo(dtype).bits // 8)
