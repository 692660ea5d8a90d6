"""A hybrid language model: Mamba layers and attention layers in one stack (Jamba's layout).

Every layer is pre-norm mixer + pre-norm SwiGLU MLP; the mixer is either a Mamba
mixer (with Jamba's RMSNorms on delta, B and C) or grouped-query attention without
positional encoding (the Mamba layers carry order). Decoding keeps two kinds of
state side by side: a fixed-size conv window and SSM state for each Mamba layer, and
a KV cache that grows with the length for each attention layer. With one attention
layer in eight (Jamba), the cache grows 1/8 as fast as a Transformer's of that depth.
Names follow transformers' JambaForCausalLM.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from model import LayerState, MambaConfig, MambaMixer, RMSNorm
from transformer import MLP, Attention, LayerKV, TransformerConfig


@dataclass(frozen=True)
class HybridConfig:
    vocab_size: int = 256
    d_model: int = 32
    layer_types: tuple[str, ...] = ("mamba", "attention", "mamba", "attention")
    n_heads: int = 4
    n_kv_heads: int = 2
    d_ff: int = 64
    d_state: int = 8
    expand: int = 2
    d_conv: int = 4
    eps: float = 1e-6
    tie_embeddings: bool = False

    def __post_init__(self):
        bad = set(self.layer_types) - {"mamba", "attention"}
        if bad:
            raise ValueError(f"layer types are 'mamba' or 'attention', got {sorted(bad)}")

    def mamba(self) -> MambaConfig:
        return MambaConfig(self.vocab_size, self.d_model, self.layer_types.count("mamba"), self.d_state, self.expand,
                           self.d_conv, None, self.eps, self.tie_embeddings, inner_norms=True)

    def attention(self) -> TransformerConfig:
        return TransformerConfig(self.vocab_size, self.d_model, self.layer_types.count("attention"), self.n_heads,
                                 self.n_kv_heads, self.d_ff, self.eps, self.tie_embeddings)


def hybrid_bytes(cfg: HybridConfig, length: int, batch: int = 1, elt: int = 4) -> tuple[int, int]:
    """(Mamba layers' state bytes: fixed, attention layers' KV bytes: length * per token) for `length` tokens."""
    m, a = cfg.mamba(), cfg.attention()
    ssm = m.n_layers * m.d_inner * (m.d_conv + m.d_state) * elt * batch
    kv = 2 * a.n_layers * a.n_kv_heads * a.head_dim * length * elt * batch
    return ssm, kv


class HybridState:
    """One entry per layer: a LayerState (Mamba) or a LayerKV with room for max_len positions (attention)."""

    def __init__(self, cfg: HybridConfig, batch: int = 1, max_len: int = 4096, dtype=torch.float32):
        self.layers = [LayerState(cfg.mamba(), batch, dtype) if t == "mamba" else
                       LayerKV(cfg.attention(), batch, max_len, dtype) for t in cfg.layer_types]
        self.seen = 0

    def nbytes(self) -> tuple[int, int]:
        """(bytes of the Mamba states, bytes of the keys and values that hold tokens)."""
        ssm = sum(s.conv.nbytes + s.ssm.nbytes for s in self.layers if isinstance(s, LayerState))
        kv = sum(c.k[:, :, :c.length].nbytes + c.v[:, :, :c.length].nbytes
                 for c in self.layers if isinstance(c, LayerKV))
        return ssm, kv


class HybridBlock(nn.Module):
    def __init__(self, cfg: HybridConfig, kind: str):
        super().__init__()
        self.kind = kind
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        if kind == "mamba":
            self.mamba = MambaMixer(cfg.mamba())
        else:
            self.self_attn = Attention(cfg.attention())
        self.pre_ff_layernorm, self.feed_forward = RMSNorm(cfg.d_model, cfg.eps), MLP(cfg.d_model, cfg.d_ff)

    def forward(self, x, state=None):
        h = self.input_layernorm(x)
        x = x + (self.mamba(h, True, state) if self.kind == "mamba" else self.self_attn(h, state))
        return x + self.feed_forward(self.pre_ff_layernorm(x))


class HybridLM(nn.Module):
    def __init__(self, cfg: HybridConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(HybridBlock(cfg, t) for t in cfg.layer_types)
        self.final_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, state: HybridState | None = None) -> torch.Tensor:
        """Logits for `ids`; with a state, a prefill (from an empty state) or one decode token per request."""
        if state is not None and ids.shape[1] > 1 and state.seen:
            raise ValueError("a prefill starts from an empty state; feed later tokens one at a time")
        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, None if state is None else state.layers[i])
        if state is not None:
            state.seen += ids.shape[1]
        x = self.final_layernorm(x)
        return x @ self.embed_tokens.weight.T if self.lm_head is None else self.lm_head(x)

    def load_hf_state_dict(self, sd: dict) -> None:
        """JambaForCausalLM (no experts): the same names under `model.`."""
        self.load_state_dict({k.removeprefix("model."): v for k, v in sd.items()}, strict=True)


@torch.no_grad()
def generate_hybrid(model: HybridLM, prompt: torch.Tensor, new_tokens: int) -> tuple[torch.Tensor, HybridState]:
    """Greedy: one prefill, then one token per step, each layer updating its own kind of state."""
    state = HybridState(model.cfg, prompt.shape[0], prompt.shape[1] + new_tokens)
    logits = model(prompt, state)
    ids = [prompt]
    for _ in range(new_tokens):
        ids.append(logits[:, -1:].argmax(-1))
        logits = model(ids[-1], state)
    return torch.cat(ids, dim=1), state
