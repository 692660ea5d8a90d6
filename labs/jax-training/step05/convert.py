"""The same weights in Hugging Face's LlamaForCausalLM: our reference implementation.

Our dense weights are (in, out) so a layer is `x @ w`; torch.nn.Linear stores
(out, in) and computes `x @ w.T`, hence the transposes below.
"""
from __future__ import annotations

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from model import Config

# our layer key -> (Hugging Face name inside model.layers.<i>., transpose?)
LAYER_NAMES = {
    "attn_norm": ("input_layernorm.weight", False),
    "wq": ("self_attn.q_proj.weight", True),
    "wk": ("self_attn.k_proj.weight", True),
    "wv": ("self_attn.v_proj.weight", True),
    "wo": ("self_attn.o_proj.weight", True),
    "mlp_norm": ("post_attention_layernorm.weight", False),
    "w_gate": ("mlp.gate_proj.weight", True),
    "w_up": ("mlp.up_proj.weight", True),
    "w_down": ("mlp.down_proj.weight", True),
}


def hf_config(cfg: Config) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, intermediate_size=cfg.d_ff,
        num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
        num_key_value_heads=cfg.n_kv_heads, head_dim=cfg.head_dim,
        max_position_embeddings=cfg.max_seq_len, rms_norm_eps=cfg.norm_eps,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta},
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        attn_implementation="eager",  # plain matmul + softmax: the easiest reference to read
    )


def to_hf_state_dict(params) -> dict[str, torch.Tensor]:
    def t(x, transpose=False):
        a = np.asarray(x, dtype=np.float32)
        return torch.from_numpy(np.array(a.T if transpose else a))  # a writable copy

    sd = {"model.embed_tokens.weight": t(params["embed"]),
          "model.norm.weight": t(params["final_norm"]),
          "lm_head.weight": t(params["lm_head"], True)}
    for i, layer in enumerate(params["layers"]):
        for ours, (name, transpose) in LAYER_NAMES.items():
            sd[f"model.layers.{i}.{name}"] = t(layer[ours], transpose)
    return sd


def hf_model(params, cfg: Config) -> LlamaForCausalLM:
    """A float32 LlamaForCausalLM holding exactly our weights (strict: every name must match)."""
    model = LlamaForCausalLM(hf_config(cfg)).float().eval()
    model.load_state_dict(to_hf_state_dict(params), strict=True)
    return model
