"""The numbers in this step's README answers (풀이), computed with the step's own code."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from attention import SelfAttention
from config import Config
from embedding import Embedding
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
