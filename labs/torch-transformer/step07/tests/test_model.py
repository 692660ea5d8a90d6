"""RoPE against complex float64 math; GQA attention against PyTorch SDPA; the model against NumPy."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close, tolerance
from model import CausalSelfAttention, Config, LanguageModel, apply_rope, rope_tables

V = 50
CFG = Config(vocab_size=V, block_size=16, n_embd=32, n_head=4, n_kv_head=2, n_layer=2)


def make_model(seed=0):
    torch.manual_seed(seed)
    model = LanguageModel(CFG)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)       # large weights: sharp attention and varied greedy tokens
    return model


def log_softmax64(a):
    a = a.astype(np.float64)
    a = a - a.max(axis=-1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=-1, keepdims=True))


def split_heads(t, n_head):
    """(B, T, H*hd) -> (B, H, T, hd), written with unflatten/permute rather than the model's view/transpose."""
    return t.unflatten(-1, (n_head, -1)).permute(0, 2, 1, 3)


def rope_reference(x, theta=10000.0):
    """RoPE as complex multiplication in float64: z_i = x[i] + 1j*x[i + d/2] turns to z_i * exp(1j * pos * w_i)."""
    x = x.double()
    T, d = x.shape[-2], x.shape[-1]
    w = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    z = torch.complex(x[..., :d // 2], x[..., d // 2:]) * torch.polar(torch.ones(T, d // 2, dtype=torch.float64),
                                                                       torch.arange(T, dtype=torch.float64)[:, None] * w)
    return torch.cat([z.real, z.imag], dim=-1)


def test_rope_is_a_rotation_of_each_pair_by_position_times_frequency():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 8)
    cos, sin = rope_tables(8, 16, 10000.0)
    # fp32 angles pos * w are off by eps * pos radians (pos < 16), which moves each pair by that times |x|.
    assert_close(apply_rope(x, cos, sin), rope_reference(x), torch.float32, terms=2, depth=2,
                 scale=16 * float(x.abs().max()))


def test_rope_scores_depend_only_on_the_distance():
    # The same q and k placed at positions (m, n) and (m + s, n + s) give the same dot product.
    torch.manual_seed(1)
    q, k = torch.randn(16), torch.randn(16)
    cos, sin = rope_tables(16, 40, 10000.0)
    def score(m, n):
        return apply_rope(q, cos[m], sin[m]) @ apply_rope(k, cos[n], sin[n])
    # fp32 angles are off by eps * pos radians (pos < 40): the dot product moves by that times sum |q_i k_i|.
    tol = tolerance(torch.float32, 40 * float(q.abs() @ k.abs()), terms=16, depth=2)
    for m, n in [(5, 2), (9, 9), (3, 11)]:
        assert_close(score(m, n), score(m + 27, n + 27), torch.float32, terms=16, depth=2,
                     scale=40 * float(q.abs() @ k.abs()))
    assert abs(score(5, 2) - score(5, 3)) > tol                          # the distance does matter


@pytest.mark.parametrize("T,n_kv_head", [(1, 2), (5, 2), (16, 2), (7, 4), (7, 1)])
def test_attention_matches_torch_sdpa_with_gqa_and_is_causal(T, n_kv_head):
    torch.manual_seed(T)
    cfg = Config(vocab_size=V, block_size=16, n_embd=32, n_head=4, n_kv_head=n_kv_head)
    attn = CausalSelfAttention(cfg)
    assert attn.wk.weight.shape == (n_kv_head * 8, 32)           # K and V shrink with n_kv_head
    x = torch.randn(3, T, cfg.n_embd)
    q = rope_reference(split_heads(attn.wq(x), cfg.n_head)).float()
    k = rope_reference(split_heads(attn.wk(x), n_kv_head)).float()
    v = split_heads(attn.wv(x), n_kv_head)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)   # (B, H, T, hd)
    expected = attn.wo(y.permute(0, 2, 1, 3).flatten(2))
    # Four chained matmul stages: the q/k/v projections (K = n_embd), q.k, weights.v, the output projection.
    assert_close(attn(x), expected, torch.float32, terms=CFG.n_embd, depth=4)


def test_heads_work_independently():
    # With W_o = I the output is the merged heads: changing head 1's query weights
    # must change only features hd..2hd (head 1's slice) and leave the other heads' slices alone.
    torch.manual_seed(1)
    attn = CausalSelfAttention(CFG)
    hd = CFG.n_embd // CFG.n_head
    with torch.no_grad():
        attn.wo.weight.copy_(torch.eye(CFG.n_embd))
    x = torch.randn(2, 9, CFG.n_embd)
    before = attn(x)
    with torch.no_grad():
        attn.wq.weight[hd:2 * hd] = torch.randn(hd, CFG.n_embd)
    after = attn(x)
    assert torch.equal(after[..., :hd], before[..., :hd])   # the same computation on the same inputs: exact
    assert torch.equal(after[..., 2 * hd:], before[..., 2 * hd:])
    changed = (after[..., hd:2 * hd] - before[..., hd:2 * hd]).abs().max()
    assert changed > tolerance(torch.float32, before.detach().abs().max(), terms=CFG.n_embd, depth=4)   # beyond rounding


def test_attention_never_reads_the_future():
    torch.manual_seed(0)
    attn = CausalSelfAttention(CFG)
    x = torch.randn(2, 10, CFG.n_embd)
    y = x.clone()
    y[:, 6:] = torch.randn(2, 4, CFG.n_embd)                  # change only positions 6..9
    assert torch.equal(attn(x)[:, :6], attn(y)[:, :6])   # the future changed, these rows' inputs did not: exact
    # Position 0 sees only itself: every head returns its group's value vector, then W_o mixes them.
    v0 = attn.wv(x)[:, 0].unflatten(-1, (CFG.n_kv_head, -1))
    heads = v0.repeat_interleave(CFG.n_head // CFG.n_kv_head, dim=1).flatten(1)
    assert_close(attn(x)[:, 0], attn.wo(heads), torch.float32, terms=CFG.n_embd, depth=2)   # wv, then wo


def test_blocks_with_silenced_outputs_leave_the_residual_stream_unchanged():
    # If every block's last projections (W_o and W_2) are 0, each block adds 0: logits = head(norm(embeddings)).
    model = make_model()
    with torch.no_grad():
        for layer in model.layers:
            layer.attention.wo.weight.zero_()
            layer.feed_forward.w2.weight.zero_()
    idx = torch.randint(V, (2, 7))
    x = model.token_embedding(idx)
    rms_normed = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG.norm_eps) * model.norm.weight
    expected = F.linear(rms_normed, model.lm_head.weight)
    assert_close(model(idx)[0], expected, torch.float32, terms=CFG.n_embd, depth=2)   # the final norm, the head


def test_logits_shape_and_loss_matches_float64_cross_entropy():
    model = make_model()
    idx, targets = torch.randint(V, (4, 8)), torch.randint(V, (4, 8))
    logits, loss = model(idx, targets)
    assert logits.shape == (4, 8, V)
    log_p = np.take_along_axis(log_softmax64(logits.detach().numpy()), targets.numpy()[..., None], -1)
    # A log-sum-exp over V logits, then a mean over B*T: terms of the size of the logits cancel, so they set the scale.
    assert_close(loss.item(), -log_p.mean(), torch.float32, terms=V, depth=2, scale=float(logits.detach().abs().max()))


def test_untrained_model_is_nearly_uniform_so_loss_is_near_ln_v():
    torch.manual_seed(0)
    model = LanguageModel(CFG)
    _, loss = model(torch.randint(V, (2, 5)), torch.randint(V, (2, 5)))
    assert abs(loss.item() - math.log(V)) < 0.05   # not rounding: std-0.02 weights leave logits of about +-0.1


def test_greedy_generation_takes_the_argmax_at_every_position():
    # The model is causal, so one forward pass over the finished sequence gives the logits
    # each generation step saw: every generated token must be the argmax there.
    model = make_model(1)
    prompt = torch.tensor([[3, 7], [11, 0]])
    out = model.generate(prompt, max_new_tokens=12, temperature=0)
    assert out.shape == (2, 14) and torch.equal(out[:, :2], prompt)
    logits, _ = model(out)
    assert torch.equal(out[:, 2:], logits[:, 1:-1].argmax(dim=-1))
    assert len(set(out[:, 2:].flatten().tolist())) > 1        # varied tokens: the check means something


def test_sampling_is_reproducible_with_a_generator_and_stays_in_vocab():
    model = make_model(2)
    prompt = torch.zeros((3, 1), dtype=torch.long)
    a = model.generate(prompt, 15, generator=torch.Generator().manual_seed(5))
    b = model.generate(prompt, 15, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == (3, 16)
    assert int(a.min()) >= 0 and int(a.max()) < V
    assert len(set(a[:, 1:].flatten().tolist())) > 1      # sampling, not a constant
