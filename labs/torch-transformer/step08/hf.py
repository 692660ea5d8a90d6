"""Load Hugging Face Llama / Qwen3 weights into this lab's model: translate the config, rename the state dict.

The two layouts hold the same tensors under different names, e.g.

    model.layers.0.self_attn.q_proj.weight  ->  layers.0.attention.wq.weight
    model.layers.0.mlp.gate_proj.weight     ->  layers.0.feed_forward.w1.weight

Shapes need no change: nn.Linear stores (out, in) in both, and our RoPE uses the same
"rotate half" pairing as HF, so q/k rows need no permutation.
"""
from __future__ import annotations

import re

import torch

from model import Config, LanguageModel

SUPPORTED_MODEL_TYPES = ("llama", "qwen3")
TOP_LEVEL = {
    "model.embed_tokens.weight": "token_embedding.weight",
    "model.norm.weight": "norm.weight",
    "lm_head.weight": "lm_head.weight",
}
IN_LAYER = {
    "self_attn.q_proj": "attention.wq",
    "self_attn.k_proj": "attention.wk",
    "self_attn.v_proj": "attention.wv",
    "self_attn.o_proj": "attention.wo",
    "self_attn.q_norm": "attention.q_norm",     # Qwen3 only
    "self_attn.k_norm": "attention.k_norm",     # Qwen3 only
    "mlp.gate_proj": "feed_forward.w1",         # the SiLU branch
    "mlp.up_proj": "feed_forward.w3",           # the gate's other factor
    "mlp.down_proj": "feed_forward.w2",
    "input_layernorm": "attention_norm",
    "post_attention_layernorm": "ffn_norm",
}


def our_name(hf_name: str) -> str:
    if hf_name in TOP_LEVEL:
        return TOP_LEVEL[hf_name]
    m = re.fullmatch(r"model\.layers\.(\d+)\.(.+)\.weight", hf_name)
    if not m or m[2] not in IN_LAYER:
        raise ValueError(f"no counterpart for Hugging Face weight '{hf_name}'")
    return f"layers.{m[1]}.{IN_LAYER[m[2]]}.weight"


def config_from_hf(hf_config, state_dict: dict[str, torch.Tensor], max_model_len: int | None = None) -> Config:
    """Our Config for a transformers LlamaConfig / Qwen3Config; refuses features this model lacks.

    max_model_len (as in vLLM) is the longest sequence this instance will serve: it becomes block_size,
    which sizes the RoPE tables. It defaults to the checkpoint's max_position_embeddings (40,960 for Qwen3).
    """
    if hf_config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(f"model type '{hf_config.model_type}' is not supported; "
                         f"supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    rope = hf_config.rope_parameters
    if rope.get("rope_type", "default") != "default":
        raise ValueError(f"RoPE scaling '{rope['rope_type']}' is not implemented here (plain RoPE only)")
    if hf_config.hidden_act != "silu" or getattr(hf_config, "attention_bias", False) \
            or getattr(hf_config, "mlp_bias", False):
        raise ValueError("only SiLU MLPs without biases are implemented here")
    positions = hf_config.max_position_embeddings
    if max_model_len is None:
        max_model_len = positions
    if isinstance(max_model_len, bool) or not 1 <= max_model_len <= positions:
        raise ValueError(f"max_model_len must be between 1 and max_position_embeddings {positions}, "
                         f"got {max_model_len}")
    return Config(
        vocab_size=hf_config.vocab_size,
        block_size=max_model_len,
        n_embd=hf_config.hidden_size,
        n_head=hf_config.num_attention_heads,
        n_kv_head=hf_config.num_key_value_heads,
        n_layer=hf_config.num_hidden_layers,
        ffn_dim=hf_config.intermediate_size,
        norm_eps=hf_config.rms_norm_eps,
        rope_theta=rope["rope_theta"],
        head_dim=getattr(hf_config, "head_dim", None) or hf_config.hidden_size // hf_config.num_attention_heads,
        # The weights say whether q/k norms exist (Qwen3) or not (Llama).
        qk_norm=any(name.endswith("self_attn.q_norm.weight") for name in state_dict),
    )


def from_hf(hf_config, state_dict: dict[str, torch.Tensor], max_model_len: int | None = None) -> LanguageModel:
    """Build our model from a Hugging Face config and state dict (e.g. hf_model.state_dict())."""
    cfg = config_from_hf(hf_config, state_dict, max_model_len)
    ours = {our_name(name): tensor for name, tensor in state_dict.items()}
    if "lm_head.weight" not in ours:            # tied embeddings saved once: the head reuses the embedding
        ours["lm_head.weight"] = ours["token_embedding.weight"]
    model = LanguageModel(cfg)
    # strict=True: every one of our parameters must be filled, every name must exist, every shape must match.
    model.load_state_dict(ours, strict=True)
    if hf_config.tie_word_embeddings:
        model.lm_head.weight = model.token_embedding.weight   # one shared matrix, as in the original model
    return model.eval()
