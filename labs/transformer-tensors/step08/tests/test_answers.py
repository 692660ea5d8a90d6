"""The numbers in this step's README answers (풀이), computed with the step's own code."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
import run
from attention import SelfAttention
from config import Config
from embedding import Embedding
from ffn import SwiGLU, make_ffn
from model import RMSNorm, TinyLM
from rope import apply_rope, rope_cos_sin
from shapetrace import ShapeTrace

B, T = 2, 8  # run.py's default batch and sequence length


# ---- step 1 -------------------------------------------------------------------------------------
def test_answer_one_hot_matmul_costs_2btvd_flops():
    """Q1: the lookup multiplies nothing; the same rows picked by a one-hot (B, T, V) @ (V, D) matmul cost 2·B·T·V·D."""
    cfg = Config()
    emb = Embedding(cfg)
    ids = torch.randint(0, cfg.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), FlopCounterMode(display=False) as lookup:
        emb.tok(ids)
    with torch.no_grad(), FlopCounterMode(display=False) as matmul:
        F.one_hot(ids, cfg.vocab_size).float() @ emb.tok.weight
    assert lookup.get_total_flops() == 0
    assert matmul.get_total_flops() == 2 * B * T * cfg.vocab_size * cfg.dim == 1_048_576


def test_answer_same_token_differs_by_the_position_rows():
    """Q3: (E[t] + P[0]) - (E[t] + P[1]) = P[0] - P[1]: the token row cancels."""
    cfg = Config()
    emb = Embedding(cfg)
    with torch.no_grad():
        x = emb(torch.tensor([[7, 7]]))
        pos = emb.pos.weight
        # two float32 additions and one subtraction, each rounding at the size of E[t] + P[m]
        assert_close(x[0, 0] - x[0, 1], pos[0] - pos[1], torch.float32, terms=1, depth=3,
                     scale=x.abs().max().item())


# ---- step 2 -------------------------------------------------------------------------------------
def test_answer_quadratic_terms_match_the_projections_at_t_2d():
    """Q3: q kᵀ and probs·v cost 4·B·T²·D, the four projections 8·B·T·D²: equal at T = 2D = 128."""
    cfg = Config(max_seq_len=128)
    with ShapeTrace() as trace, torch.no_grad():
        SelfAttention(cfg)(torch.randn(B, 128, cfg.dim))
    quadratic = sum(r.flops for r in trace.rows if r.name.startswith(("scores", "out = ")))
    projections = sum(r.flops for r in trace.rows if r.params)
    assert quadratic == projections == 8_388_608


# ---- step 3 -------------------------------------------------------------------------------------
def test_answer_rotations_compose():
    """Q1: <R_m q, R_n k> = <q, R_{n-m} k>, here m = 1, n = 3, in float64."""
    d = 64
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(d, generator=gen, dtype=torch.float64), torch.randn(d, generator=gen, dtype=torch.float64)
    cos, sin = rope_cos_sin(4, d, 10000.0, q)
    lhs = apply_rope(q, cos[1], sin[1]) @ apply_rope(k, cos[3], sin[3])
    rhs = q @ apply_rope(k, cos[2], sin[2])
    # cos/sin of different angles, a rotation on each side, then a d-term dot product
    assert_close(lhs, rhs, torch.float64, terms=d, depth=3, scale=(q.norm() * k.norm()).item())


def test_answer_slowest_pair_turns_once_in_47117_positions():
    """Q2: theta_31 = 10000^(-62/64); a full turn takes 2π / theta_31 positions."""
    d = 64
    cos, sin = rope_cos_sin(2, d, 10000.0, torch.zeros(1, dtype=torch.float64))
    theta = torch.atan2(sin[1], cos[1])  # the angle each pair turns per position
    assert torch.allclose(theta[:d // 2], theta[d // 2:])  # pair i and i + d/2 share an angle (exact copies)
    assert round(2 * math.pi / theta[d // 2 - 1].item()) == 47117
    assert f"{2 * math.pi / theta[0].item():.2f}" == "6.28"  # the fastest pair


def test_answer_rope_still_refuses_beyond_max_seq_len():
    """Q3: this lab's embedding checks T against max_seq_len even with RoPE."""
    with pytest.raises(ValueError, match="exceeds max_seq_len"):
        Embedding(Config(pos="rope"))(torch.zeros(1, 40, dtype=torch.long))


# ---- step 4 -------------------------------------------------------------------------------------
def test_answer_view_after_transpose_fails_and_reshape_copies():
    """Q1: after transpose, H and d are not adjacent in memory (stride of H is T·d), so view cannot merge them."""
    H, d = 4, 16
    out = torch.randn(B, H, T, d).transpose(1, 2)  # (B, T, H, d), strides (H·T·d, d, T·d, 1)
    assert out.stride() == (H * T * d, d, T * d, 1)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        out.view(B, T, H * d)
    assert torch.equal(out.reshape(B, T, H * d), out.contiguous().view(B, T, H * d))
    one = torch.randn(B, H, 1, d).transpose(1, 2)  # T = 1: H and d happen to be adjacent
    assert one.view(B, 1, H * d).shape == (B, 1, H * d)


def test_answer_64_heads_of_width_1():
    """Q3: RoPE refuses d = 1; with learned positions, parameters and FLOPs stay, the scores grow 16x."""
    with pytest.raises(ValueError, match="head_dim must be even"):
        Config(n_heads=64, pos="rope")
    counts = {}
    for heads in (4, 64):
        cfg = Config(n_heads=heads, pos="learned")
        with ShapeTrace() as trace, torch.no_grad():
            SelfAttention(cfg)(Embedding(cfg)(torch.randint(0, cfg.vocab_size, (B, T))))
        counts[heads] = (trace.params - cfg.vocab_size * cfg.dim - cfg.max_seq_len * cfg.dim, trace.flops,
                         trace["scores = q kᵀ/√d"].shape)
    assert counts[4] == (4 * 64 * 64, 557_056, (B, 4, T, T))
    assert counts[64] == (4 * 64 * 64, 557_056, (B, 64, T, T))


# ---- step 5 -------------------------------------------------------------------------------------
def test_answer_repeat_copies_what_enable_gqa_avoids():
    """Q2: the copies (B, H, T, d) of k and v are H/H_kv times the (B, H_kv, T, d) originals."""
    cfg = Config(n_heads=4, n_kv_heads=2, pos="rope")
    with ShapeTrace() as trace, torch.no_grad():
        SelfAttention(cfg)(torch.randn(B, T, cfg.dim))
    split, repeated = trace["k split"].shape, trace["k repeated"].shape
    assert (split, repeated) == ((B, 2, T, 16), (B, 4, T, 16))
    extra = 2 * (math.prod(repeated) - math.prod(split)) * 4  # k and v, float32
    assert extra == 4_096


def test_answer_kv_cache_of_a_llama_3_8b_shape():
    """Q3: 2 (k, v) · H_kv · d · 2 bytes per token per layer, times 32 layers and 4096 tokens."""
    gqa = Config(dim=4096, n_heads=32, n_kv_heads=8)
    mha = Config(dim=4096, n_heads=32)
    per_token_layer = {name: 2 * c.kv_heads * c.head_dim * 2 for name, c in (("gqa", gqa), ("mha", mha))}
    assert per_token_layer == {"gqa": 4_096, "mha": 16_384}
    assert 32 * 4096 * per_token_layer["gqa"] == 2 ** 29  # 0.5 GiB
    assert 32 * 4096 * per_token_layer["mha"] == 2 ** 31  # 2 GiB


# ---- step 6 -------------------------------------------------------------------------------------
def test_answer_the_causal_mask_breaks_permutation_equivariance():
    """Q1: without a mask (and without positions) attention only permutes along; the causal mask breaks that."""
    torch.manual_seed(0)
    cfg = Config(n_heads=4, pos="learned")  # positions are added by the embedding, not inside attention
    attn = SelfAttention(cfg).double()
    x = torch.randn(B, T, cfg.dim, dtype=torch.float64)
    perm = torch.randperm(T)
    with torch.no_grad():
        masked = attn(x[:, perm]) - attn(x)[:, perm]
        assert masked.abs().max() > 0.1  # the mask: token t sees other tokens after the shuffle

        def unmasked(x):  # the same weights, no mask: softmax(q kᵀ/√d) v Wo
            q, k, v = (w(x).view(B, T, 4, 16).transpose(1, 2) for w in (attn.wq, attn.wk, attn.wv))
            return attn.wo(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, cfg.dim))

        # float64: projections (D terms), scores (d), softmax·v (T), Wo (D)
        assert_close(unmasked(x[:, perm]), unmasked(x)[:, perm], torch.float64, terms=cfg.dim, depth=4)


def test_answer_llama_2_7b_ffn_parameters():
    """Q2: 3·4096·11008 per layer; 32 layers are 64.2% of Llama-2-7B's 6,738,415,616 parameters."""
    cfg = Config(dim=4096, n_heads=32, ffn="swiglu", multiple_of=256)
    assert cfg.ffn_hidden_size == 11008
    with torch.device("meta"):  # shapes only, no memory
        per_layer = sum(p.numel() for p in SwiGLU(cfg).parameters())
    assert per_layer == 3 * 4096 * 11008 == 135_266_304
    assert 32 * per_layer == 4_328_521_728
    assert f"{32 * per_layer / 6_738_415_616:.1%}" == "64.2%"


def test_answer_swiglu_at_4d_is_1_5x():
    """Q3: three D x 4D matrices against two: 12D² / 8D² = 1.5, for parameters and for FLOPs."""
    counts = {}
    for cfg in (Config(ffn="gelu"), Config(ffn="swiglu", ffn_hidden=4 * 64)):
        with ShapeTrace() as trace, torch.no_grad():
            make_ffn(cfg)(torch.randn(B, T, cfg.dim))
        counts[cfg.ffn] = (trace.params, trace.flops)
    assert counts == {"gelu": (32_768, 1_048_576), "swiglu": (49_152, 1_572_864)}


# ---- step 7 -------------------------------------------------------------------------------------
def test_answer_post_norm_rescales_the_stream():
    """Q1: post-norm with zeroed sublayers gives norm(x), which is x / rms(x) · g, not x."""
    norm = RMSNorm(64, 1e-6)
    x = 3 * torch.randn(B, T, 64, dtype=torch.float64)
    rms = (x.pow(2).mean(-1, keepdim=True) + 1e-6).sqrt()  # eps as RMSNorm adds it
    with torch.no_grad():
        y = norm(x)
    assert (y - x).abs().max() > 1.0  # not the identity
    assert_close(y, x / rms, torch.float64, terms=64, depth=2)  # a mean of 64 squares, then a division


def test_answer_llama_2_7b_has_6_74b_parameters():
    """Q2: L·(2D² + 2D·H_kv·d + 3D·hidden + 2D) + 2VD + D with Llama-2-7B's shapes."""
    cfg = Config(vocab_size=32000, dim=4096, max_seq_len=4096, pos="rope", n_heads=32, ffn="swiglu",
                 multiple_of=256, n_layers=32)
    with torch.device("meta"):
        model = TinyLM(cfg)
    D, L, V, hidden = 4096, 32, 32000, 11008
    by_formula = L * (2 * D * D + 2 * D * D + 3 * D * hidden + 2 * D) + 2 * V * D + D
    assert sum(p.numel() for p in model.parameters()) == by_formula == 6_738_415_616


# ---- step 8 -------------------------------------------------------------------------------------
def test_answer_capacity_factor_1_25():
    """Q3: run.py's default model with C = ceil(f·N·k/E): f = 1.0 gives 8 and drops 1 + 5; f = 1.25 gives 10, drops 0 + 2."""
    result = {}
    for factor in ("1.0", "1.25"):
        args, cfg = run.parse_args(["--capacity-factor", factor])
        torch.manual_seed(args.seed)  # as run.main builds it
        model = TinyLM(cfg)
        ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
        with torch.no_grad():
            model(ids)
        result[factor] = [(layer.ffn.stats["capacity"], sum(layer.ffn.stats["routed"]) - sum(layer.ffn.stats["kept"]))
                          for layer in model.layers]
    assert result == {"1.0": [(8, 1), (8, 5)], "1.25": [(10, 0), (10, 2)]}
