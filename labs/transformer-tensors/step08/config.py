"""The model's shape settings, checked once so that every module can trust them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    vocab_size: int = 512  # V: rows of the token table
    dim: int = 64  # D: width of every token vector (the residual stream)
    max_seq_len: int = 32  # T_max: rows of the learned position table
    pos: str = "learned"  # "learned": a table added to x; "rope": q and k rotated inside attention
    rope_theta: float = 10000.0  # RoPE base: the slowest pair turns by pos·theta^(-(d-2)/d)
    n_heads: int = 1  # H: attention heads; each sees d = D / H features
    n_kv_heads: int | None = None  # H_kv: key/value heads shared by H / H_kv query heads each; None = H
    ffn: str = "gelu"  # "gelu": D -> 4D -> D; "swiglu": gated, three matrices of D x hidden
    ffn_hidden: int | None = None  # None: 4D for gelu, 8D/3 rounded up to multiple_of for swiglu
    multiple_of: int = 32  # SwiGLU hidden is rounded up to this (Llama-2-7B: 256, giving 11008)
    n_layers: int = 1  # L: blocks stacked on the residual stream
    norm_eps: float = 1e-6  # RMSNorm's epsilon
    tie_embeddings: bool = False  # LM head reuses the token table
    n_experts: int = 0  # E: 0 = a dense FFN in every block; otherwise a router over E expert FFNs
    top_k: int = 2  # k: experts each token is sent to
    capacity_factor: float = 0.0  # C = ceil(factor · N · k / E) tokens per expert; 0 = no limit

    def __post_init__(self):
        for name in ("vocab_size", "dim", "max_seq_len", "n_heads", "multiple_of", "n_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.pos not in ("learned", "rope"):
            raise ValueError(f"pos must be 'learned' or 'rope', got {self.pos!r}")
        if self.ffn not in ("gelu", "swiglu"):
            raise ValueError(f"ffn must be 'gelu' or 'swiglu', got {self.ffn!r}")
        if self.ffn_hidden is not None and self.ffn_hidden < 1:
            raise ValueError(f"ffn_hidden must be at least 1, got {self.ffn_hidden}")
        if self.n_experts < 0 or (self.n_experts and not 1 <= self.top_k <= self.n_experts):
            raise ValueError(f"need 1 <= top_k <= n_experts, got top_k {self.top_k}, n_experts {self.n_experts}")
        if not 0 <= self.capacity_factor < float("inf"):  # also refuses NaN
            raise ValueError(f"capacity_factor must be a finite number >= 0, got {self.capacity_factor}")
        if self.dim % self.n_heads:
            raise ValueError(f"dim {self.dim} must be divisible by n_heads {self.n_heads}")
        if self.kv_heads < 1 or self.n_heads % self.kv_heads:
            raise ValueError(f"n_heads {self.n_heads} must be a multiple of n_kv_heads {self.kv_heads}")
        if self.pos == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE rotates pairs of features, so head_dim must be even, got {self.head_dim}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def kv_heads(self) -> int:
        return self.n_heads if self.n_kv_heads is None else self.n_kv_heads

    @property
    def ffn_hidden_size(self) -> int:
        if self.ffn_hidden is not None:
            return self.ffn_hidden
        if self.ffn == "gelu":
            return 4 * self.dim
        hidden = int(2 * 4 * self.dim / 3)  # 3·D·(8D/3) = 8D², the weight count of the 4D GELU FFN
        return self.multiple_of * -(-hidden // self.multiple_of)  # round up for friendlier matmul shapes
