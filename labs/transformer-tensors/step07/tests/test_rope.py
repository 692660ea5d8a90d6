"""RoPE against Hugging Face Llama's rotary embedding, and the property that makes it useful."""
import torch
import torch.nn.functional as F
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from dlc_shared.testing import assert_close
from attention import SelfAttention
from config import Config
from embedding import Embedding
from rope import apply_rope, rope_cos_sin
from shapetrace import ShapeTrace

B, T, D = 2, 6, 16


def hf_cos_sin(d, theta, x):
    cfg = LlamaConfig(hidden_size=d, num_attention_heads=1, num_key_value_heads=1, max_position_embeddings=T,
                      rope_theta=theta, vocab_size=50, num_hidden_layers=1, intermediate_size=32)
    return LlamaRotaryEmbedding(cfg)(x, torch.arange(T)[None])  # each (1, T, d)


def test_matches_hugging_face_llama_rotary_embedding():
    torch.manual_seed(0)
    q, k = torch.randn(B, 1, T, D), torch.randn(B, 1, T, D)  # (B, heads, T, d) as Llama lays them out
    cos_ref, sin_ref = hf_cos_sin(D, 500.0, q)
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos_ref, sin_ref)
    cos, sin = rope_cos_sin(T, D, 500.0, q)
    # an angle pos·θ_i (up to T radians) carries a relative rounding error, so cos and sin carry T·eps
    assert_close(cos, cos_ref[0], torch.float32, depth=2, scale=T)  # θ_i, then pos·θ_i
    # x·cos + rotate(x)·sin: two terms, each with the angle's error times |x|
    assert_close(apply_rope(q, cos, sin), q_ref, torch.float32, terms=2, depth=3, scale=T * q.abs().max().item())
    assert_close(apply_rope(k, cos, sin), k_ref, torch.float32, terms=2, depth=3, scale=T * k.abs().max().item())


def test_score_depends_only_on_relative_position():
    torch.manual_seed(0)
    q, k = torch.randn(D, dtype=torch.float64), torch.randn(D, dtype=torch.float64)
    cos, sin = rope_cos_sin(T, D, 10000.0, q)

    def score(m, n):  # the same q at position m against the same k at position n
        return apply_rope(q, cos[m], sin[m]) @ apply_rope(k, cos[n], sin[n])

    # a dot product of D terms of rotated vectors; the angles (up to T radians) carry T·eps
    bound = dict(terms=D, depth=3, scale=T * (q.norm() * k.norm()).item())
    assert_close(score(3, 1), score(5, 3), torch.float64, **bound)
    assert_close(score(2, 2), q @ k, torch.float64, **bound)  # same position: no net rotation
    assert not torch.isclose(score(3, 1), score(3, 0))


def test_rotation_keeps_the_length():
    torch.manual_seed(0)
    x = torch.randn(T, D, dtype=torch.float64)
    cos, sin = rope_cos_sin(T, D, 10000.0, x)
    assert_close(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1), torch.float64, terms=D, depth=3,
                 scale=T * x.norm(dim=-1).max().item())


def test_rope_attention_matches_sdpa_on_hugging_face_rotated_q_k():
    torch.manual_seed(0)
    cfg = Config(vocab_size=50, dim=D, max_seq_len=12, pos="rope")
    attn, x = SelfAttention(cfg), torch.randn(B, T, D)
    q, k, v = attn.wq(x)[:, None], attn.wk(x)[:, None], attn.wv(x)[:, None]  # one head
    cos, sin = hf_cos_sin(D, cfg.rope_theta, x)
    q, k = apply_rotary_pos_emb(q, k, cos, sin)
    expected = attn.wo(F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 0])
    assert expected.std() > 0.1
    # q/k/v, rope, q kᵀ, probs·v, Wo: five stages; the rope angles (up to T radians) add T·eps
    assert_close(attn(x), expected, torch.float32, terms=D, depth=5 + T)


def test_multi_head_rope_attention_matches_sdpa_on_hugging_face_rotated_q_k():
    torch.manual_seed(0)
    cfg = Config(vocab_size=50, dim=D, max_seq_len=12, pos="rope", n_heads=4)
    attn, x = SelfAttention(cfg), torch.randn(B, T, D)
    H, d = cfg.n_heads, cfg.head_dim
    q, k, v = (w(x).view(B, T, H, d).transpose(1, 2) for w in (attn.wq, attn.wk, attn.wv))
    cos, sin = hf_cos_sin(d, cfg.rope_theta, x)  # rotations act inside each head, so on d features
    q, k = apply_rotary_pos_emb(q, k, cos, sin)
    expected = attn.wo(F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, D))
    assert expected.std() > 0.1
    assert_close(attn(x), expected, torch.float32, terms=D, depth=5 + T)  # as above


def test_trace_with_rope_has_no_position_table():
    torch.manual_seed(0)
    cfg = Config(vocab_size=50, dim=D, max_seq_len=12, pos="rope")
    embed, attn = Embedding(cfg), SelfAttention(cfg)
    with ShapeTrace() as trace:
        attn(embed(torch.randint(0, 50, (B, T))))
    names = [r.name for r in trace.rows]
    assert not any(n.startswith("pos_emb") for n in names)
    assert trace["q = rope(q)"].shape == trace["k = rope(k)"].shape == (B, 1, T, D)
    assert trace["q = rope(q)"].params == 0
    assert trace.params == cfg.vocab_size * D + 4 * D * D


def test_odd_dim_is_refused_for_rope():
    try:
        Config(dim=15, pos="rope")
    except ValueError as e:
        assert "even" in str(e)
    else:
        raise AssertionError("odd dim accepted for RoPE")
