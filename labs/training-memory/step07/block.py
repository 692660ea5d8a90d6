"""A small Llama-style decoder in plain torch ops, and a formula for the activations it keeps.

Block: x + attention(rms_norm(x)), then x + swiglu_mlp(rms_norm(x)); grouped-query
attention (n_kv_heads <= n_heads); no positional encoding (RoPE would add a few
saved tensors and change no lesson here). `attention="eager"` writes softmax(QK^T)V out
and keeps the B*H*T*T probabilities; `attention="sdpa"` calls PyTorch's fused kernel,
which keeps only its inputs, output and one log-sum-exp per row (FlashAttention's trick).
`checkpoint=True` keeps only each block's input and recomputes the block in backward.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from checkpoint import checkpoint


@dataclass(frozen=True)
class Config:
    vocab: int = 512
    dim: int = 128
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    ffn_dim: int = 344  # ~8/3 * dim, as in Llama's SwiGLU
    attention: str = "eager"  # eager | sdpa
    checkpoint: bool = False

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads


def init_params(cfg: Config, *, seed: int = 0, dtype=torch.float32) -> dict:
    gen = torch.Generator().manual_seed(seed)

    def dense(n_in, n_out):
        return (torch.randn(n_in, n_out, generator=gen) / math.sqrt(n_in)).to(dtype).requires_grad_()

    def ones(n):
        return torch.ones(n, dtype=dtype, requires_grad=True)

    d, dq, dkv = cfg.dim, cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
    layers = [dict(norm1=ones(d), wq=dense(d, dq), wk=dense(d, dkv), wv=dense(d, dkv), wo=dense(dq, d),
                   norm2=ones(d), w_gate=dense(d, cfg.ffn_dim), w_up=dense(d, cfg.ffn_dim),
                   w_down=dense(cfg.ffn_dim, d)) for _ in range(cfg.n_layers)]
    embed = torch.randn(cfg.vocab, d, generator=gen).to(dtype).requires_grad_()
    return dict(embed=embed, layers=layers, norm=ones(d), head=dense(d, cfg.vocab))


def all_params(params: dict) -> list[torch.Tensor]:
    return [params["embed"], *(p for layer in params["layers"] for p in layer.values()), params["norm"], params["head"]]


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def attention(h: torch.Tensor, p: dict, cfg: Config) -> torch.Tensor:
    b, t, _ = h.shape
    q = (h @ p["wq"]).view(b, t, cfg.n_heads, cfg.head_dim).transpose(1, 2)
    k = (h @ p["wk"]).view(b, t, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
    v = (h @ p["wv"]).view(b, t, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
    if cfg.attention == "sdpa":
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    else:
        group = cfg.n_heads // cfg.n_kv_heads  # each K/V head serves `group` query heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(cfg.head_dim)
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        probs = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        out = probs @ v
    return out.transpose(1, 2).reshape(b, t, -1) @ p["wo"]


def block(x: torch.Tensor, p: dict, cfg: Config) -> torch.Tensor:
    x = x + attention(rms_norm(x, p["norm1"]), p, cfg)
    h = rms_norm(x, p["norm2"])
    return x + (F.silu(h @ p["w_gate"]) * (h @ p["w_up"])) @ p["w_down"]


def forward(idx: torch.Tensor, params: dict, cfg: Config) -> torch.Tensor:
    x = F.embedding(idx, params["embed"])
    for p in params["layers"]:
        if cfg.checkpoint:
            x = checkpoint(lambda x, p=p: block(x, p, cfg), x, list(p.values()))
        else:
            x = block(x, p, cfg)
    return rms_norm(x, params["norm"]) @ params["head"]


def lm_loss(idx: torch.Tensor, targets: torch.Tensor, params: dict, cfg: Config) -> torch.Tensor:
    logits = forward(idx, params, cfg)
    return F.cross_entropy(logits.view(-1, cfg.vocab), targets.view(-1))


# ---- what backward keeps, counted op by op (elements per token unless noted) -------------
def block_activation_bytes(cfg: Config, batch: int, seq: int, itemsize: int) -> int:
    """One block. RMSNorm keeps its input x, 1/rms and x/rms (2D + 1); the matmuls keep their
    inputs (normed h: D, attention output: Dq, MLP hidden: F); SwiGLU keeps gate, silu(gate)
    and up (3F). Eager attention keeps Q and the head-expanded K and V (Dq each), the
    softmax probabilities (B*H*T*T) and the causal mask (T*T bools); sdpa keeps Q, K, V
    (Dq + 2 Dkv), its output (Dq) and a float32 log-sum-exp per head and row."""
    d, dq, dkv, f = cfg.dim, cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim, cfg.ffn_dim
    tokens = batch * seq
    norms = 2 * (2 * d + 1) + 2 * d            # two RMSNorms and their outputs h
    mlp = 4 * f                                 # gate, silu(gate), up, silu(gate)*up
    if cfg.attention == "sdpa":
        attn = dq + 2 * dkv + dq                # q, k, v, output (already (B,T,H,hd): wo reads it as is)
        return itemsize * tokens * (norms + attn + mlp) + 4 * tokens * cfg.n_heads
    attn = 3 * dq + dq                          # q and expanded k, v; the (B,T,Dq) copy for wo
    probs = batch * cfg.n_heads * seq * seq
    return itemsize * (tokens * (norms + attn + mlp) + probs) + seq * seq


def model_activation_bytes(cfg: Config, batch: int, seq: int, itemsize: int) -> int:
    """All blocks + final RMSNorm and its output (3D + 1) + log-softmax over the vocabulary (V)
    + token ids and targets (int64) + cross-entropy's scalar weight."""
    tokens = batch * seq
    head = itemsize * tokens * (3 * cfg.dim + 1 + cfg.vocab)
    if cfg.checkpoint:  # each block keeps only its input, B*T*D
        return cfg.n_layers * itemsize * tokens * cfg.dim + head + 2 * 8 * tokens + itemsize
    return cfg.n_layers * block_activation_bytes(cfg, batch, seq, itemsize) + head + 2 * 8 * tokens + itemsize


def peak_activation_bytes(cfg: Config, batch: int, seq: int, itemsize: int) -> int:
    """The most activation memory held at once during forward + backward. Without checkpointing
    that is the end of forward. With it, backward may peak later: while the last block is
    recomputed, the other blocks' inputs and that block's full activations (its input among
    them) are held, plus the token ids the embedding keeps; the head's tensors are freed by then."""
    end_of_forward = model_activation_bytes(cfg, batch, seq, itemsize)
    if not cfg.checkpoint:
        return end_of_forward
    inputs = itemsize * batch * seq * cfg.dim
    recompute = (cfg.n_layers - 1) * inputs + block_activation_bytes(cfg, batch, seq, itemsize) + 8 * batch * seq
    return max(end_of_forward, recompute)
