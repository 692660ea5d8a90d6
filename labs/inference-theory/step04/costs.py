"""Prefill vs decode: FLOPs, bytes and arithmetic intensity of one forward pass, from the shapes alone.

A forward pass of a Llama/Qwen3-shaped decoder multiplies `new` tokens by every
weight matrix (2 FLOPs per weight per token) and lets each new token attend to
`context` cached positions (QK^T and PV: 4 * H * d FLOPs per pair). It reads every
weight once, whatever `new` is, and the KV cache of every sequence. Prefill has
new = context = prompt length: the weights are shared by many tokens. Decode has
new = 1 per sequence: each token pays for all the weights alone.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ff: int
    vocab: int
    tied: bool = True       # lm_head shares the embedding matrix
    qk_norm: bool = True    # Qwen3 normalizes q and k per head (d weights each)

    @classmethod
    def from_hf(cls, cfg) -> "Shape":
        return cls(cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads,
                   cfg.head_dim, cfg.intermediate_size, cfg.vocab_size, cfg.tie_word_embeddings,
                   cfg.model_type == "qwen3")


def layer_matmul_weights(s: Shape) -> int:
    """Weights of one layer that multiply activations: q, k, v, o and the SwiGLU MLP."""
    attn = s.d_model * s.n_heads * s.head_dim * 2 + s.d_model * s.n_kv_heads * s.head_dim * 2
    return attn + 3 * s.d_model * s.d_ff


def layer_norm_weights(s: Shape) -> int:
    return 2 * s.d_model + (2 * s.head_dim if s.qk_norm else 0)


def forward_flops(s: Shape, new: int, context: int, batch: int = 1) -> int:
    """FLOPs of one forward pass: `new` tokens per sequence, each attending to `context` positions.

    Attention is counted as computed (a dense mask in prefill: new x context scores, masked or not).
    """
    matmuls = 2 * batch * new * (s.n_layers * layer_matmul_weights(s) + s.vocab * s.d_model)
    attention = 4 * batch * s.n_layers * new * context * s.n_heads * s.head_dim
    return matmuls + attention


def weight_bytes(s: Shape, elt: int) -> int:
    """Bytes of the weights read in full by every forward pass (not the embedding table: only its rows)."""
    per_layer = layer_matmul_weights(s) + layer_norm_weights(s)
    return elt * (s.n_layers * per_layer + s.d_model + s.vocab * s.d_model)


def kv_bytes(s: Shape, positions: int, elt: int, batch: int = 1) -> int:
    """Bytes of the keys and values of `positions` positions in every layer."""
    return elt * 2 * s.n_layers * s.n_kv_heads * s.head_dim * positions * batch


def forward_bytes(s: Shape, new: int, context: int, elt: int, batch: int = 1) -> int:
    """Bytes one forward pass moves: weights once, the embedding rows looked up, the cache read
    (all `context` positions) and the new keys and values written. Activations are left out:
    they are new x d_model per layer, small next to the weights until `new` gets large."""
    rows = elt * batch * new * s.d_model
    return weight_bytes(s, elt) + rows + kv_bytes(s, context, elt, batch) + kv_bytes(s, new, elt, batch)


def intensity(s: Shape, new: int, context: int, elt: int, batch: int = 1) -> float:
    """Arithmetic intensity, FLOPs per byte moved."""
    return forward_flops(s, new, context, batch) / forward_bytes(s, new, context, elt, batch)
