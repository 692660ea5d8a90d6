"""Embedding: values against a float64 one-hot matmul, traced shapes and counts against formulas."""
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from config import Config
from embedding import Embedding
from shapetrace import ShapeTrace

B, T = 3, 7


def make(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = Config(vocab_size=50, dim=16, max_seq_len=12, **kw)
    return cfg, Embedding(cfg), torch.randint(0, 50, (B, T))


def test_values_match_one_hot_matmul_in_float64():
    cfg, model, ids = make()
    E = model.tok.weight.detach().double().numpy()
    P = model.pos.weight.detach().double().numpy()
    one_hot = np.eye(cfg.vocab_size)[ids.numpy()]  # (B, T, V): a lookup is a matmul with one-hot rows
    expected = one_hot @ E + P[:T]
    got = model(ids).detach().double().numpy()
    assert_close(got, expected, torch.float32, terms=2)  # one float32 add of two table rows


def test_same_token_at_two_positions_gets_two_vectors():
    cfg, model, _ = make()
    ids = torch.full((1, T), 5)
    x = model(ids)[0]
    assert not torch.allclose(x[0], x[1])
    # (E[5] + P[0]) - (E[5] + P[1]): three roundings of values as large as x, not as the difference
    assert_close(x[0] - x[1], model.pos.weight[0] - model.pos.weight[1], torch.float32, terms=2, depth=2,
                 scale=x.abs().max().item())


def test_trace_shapes_and_counts_follow_formulas():
    cfg, model, ids = make()
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        model(ids)
    assert trace["tok_emb = E[ids]"].shape == (B, T, cfg.dim)
    assert trace["pos_emb = P[0:T]"].shape == (T, cfg.dim)
    assert trace["x = tok + pos"].shape == (B, T, cfg.dim)
    assert trace.params == cfg.vocab_size * cfg.dim + cfg.max_seq_len * cfg.dim
    assert trace.params == sum(p.numel() for p in model.parameters())
    assert trace.flops == counter.get_total_flops() == 0  # a lookup multiplies nothing


def test_dtype_follows_the_table():
    cfg, model, ids = make()
    with ShapeTrace() as trace:
        model.to(torch.bfloat16)(ids)
    assert {r.dtype for r in trace.rows} == {"bfloat16"}


def test_too_long_sequence_is_refused():
    cfg, model, _ = make()
    try:
        model(torch.zeros(1, cfg.max_seq_len + 1, dtype=torch.long))
    except ValueError as e:
        assert "max_seq_len" in str(e)
    else:
        raise AssertionError("no error for a sequence longer than the position table")
