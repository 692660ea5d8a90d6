"""Self-attention against PyTorch's own attention, and its traced shapes and FLOPs against formulas."""
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from attention import SelfAttention
from config import Config
from shapetrace import ShapeTrace

B, T = 2, 6


def make(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = Config(vocab_size=50, dim=16, max_seq_len=12, **kw)
    return cfg, SelfAttention(cfg), torch.randn(B, T, cfg.dim)


def torch_mha(cfg, attn, n_heads):
    """nn.MultiheadAttention holding the same weights (q, k, v stacked in one in_proj)."""
    ref = nn.MultiheadAttention(cfg.dim, n_heads, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([attn.wq.weight, attn.wk.weight, attn.wv.weight]))
        ref.out_proj.weight.copy_(attn.wo.weight)
    return ref


def test_matches_nn_multihead_attention_with_one_head():
    cfg, attn, x = make()
    ref = torch_mha(cfg, attn, n_heads=1)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = may not attend
    expected, _ = ref(x, x, x, attn_mask=future, need_weights=False)
    assert expected.std() > 0.1  # a varied reference, not a constant
    # four matmul stages (q/k/v, q kᵀ, probs·v, Wo), the longest reduction over D features
    assert_close(attn(x), expected, torch.float32, terms=cfg.dim, depth=4)


def test_matches_sdpa_in_float64():
    cfg, attn, x = make()
    attn = attn.double()
    x = x.double()
    q, k, v = attn.wq(x), attn.wk(x), attn.wv(x)
    expected = attn.wo(F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert_close(attn(x), expected, torch.float64, terms=cfg.dim, depth=4)


def test_causal_future_tokens_do_not_change_the_past():
    cfg, attn, x = make()
    y = attn(x)
    x2 = x.clone()
    x2[:, 4:] = torch.randn(B, T - 4, cfg.dim)
    y2 = attn(x2)
    assert_close(y2[:, :4], y[:, :4], torch.float32, terms=cfg.dim, depth=4)
    assert not torch.allclose(y2[:, 4:], y[:, 4:])


def test_trace_shapes_and_counts_follow_formulas():
    cfg, attn, x = make()
    D = cfg.dim
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        attn(x)
    for name in ("q = x Wq", "k = x Wk", "v = x Wv", "out merged", "y = out Wo"):
        assert trace[name].shape == (B, T, D)
    assert trace["out = probs v"].shape == (B, 1, T, D)  # one head of width D
    for name in ("scores = q kᵀ/√d", "scores + causal mask", "probs = softmax(scores)"):
        assert trace[name].shape == (B, 1, T, T)
    assert trace["scores = q kᵀ/√d"].flops == 2 * B * T * T * D
    assert trace.params == 4 * D * D == sum(p.numel() for p in attn.parameters())
    assert trace.flops == 4 * 2 * B * T * D * D + 2 * 2 * B * T * T * D
    assert trace.flops == counter.get_total_flops()


def test_bfloat16_keeps_softmax_in_float32():
    cfg, attn, x = make()
    with ShapeTrace() as trace:
        y = attn.to(torch.bfloat16)(x.to(torch.bfloat16))
    assert trace["probs = softmax(scores)"].dtype == "float32"
    assert y.dtype == torch.bfloat16
    expected = make()[1](x)
    # bf16 x and weights, four bf16 matmul stages as above
    assert_close(y, expected, torch.bfloat16, terms=cfg.dim, depth=4)


def test_multi_head_matches_nn_multihead_attention():
    cfg, attn, x = make(n_heads=4)
    ref = torch_mha(cfg, attn, n_heads=4)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    expected, _ = ref(x, x, x, attn_mask=future, need_weights=False)
    assert expected.std() > 0.1
    assert_close(attn(x), expected, torch.float32, terms=cfg.dim, depth=4)
    one_head = make()[1]  # same seed, same weights, one head: a different function
    assert not torch.allclose(one_head(x), expected, atol=1e-3)


def test_multi_head_trace_splits_and_merges():
    cfg, attn, x = make(n_heads=4)
    H, d, D = 4, cfg.head_dim, cfg.dim
    with ShapeTrace() as trace, FlopCounterMode(display=False) as counter:
        attn(x)
    assert d * H == D
    for name in ("q split", "k split", "v split", "out = probs v"):
        assert trace[name].shape == (B, H, T, d)
    assert trace["scores = q kᵀ/√d"].shape == trace["probs = softmax(scores)"].shape == (B, H, T, T)
    assert trace["out merged"].shape == (B, T, D)
    assert trace.params == 4 * D * D
    assert trace.flops == 4 * 2 * B * T * D * D + 2 * 2 * B * H * T * T * d == counter.get_total_flops()


def test_indivisible_heads_are_refused():
    try:
        Config(dim=16, n_heads=3)
    except ValueError as e:
        assert "divisible" in str(e)
    else:
        raise AssertionError("dim 16 with 3 heads accepted")
