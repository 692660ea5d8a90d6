"""Attention and the block against PyTorch (SDPA, nn.MultiheadAttention, nn.TransformerEncoderLayer)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close, tolerance
from model import Block, CausalSelfAttention, Config, LanguageModel

V = 50
CFG = Config(vocab_size=V, block_size=16, n_embd=32, n_head=4, n_layer=2)


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


@pytest.mark.parametrize("T", [1, 5, 16])
def test_attention_matches_torch_sdpa_with_is_causal(T):
    torch.manual_seed(T)
    attn = CausalSelfAttention(CFG)
    x = torch.randn(3, T, CFG.n_embd)
    q, k, v = (split_heads(w(x), CFG.n_head) for w in (attn.wq, attn.wk, attn.wv))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)        # (B, H, T, hd), scale 1/sqrt(hd)
    expected = attn.wo(y.permute(0, 2, 1, 3).flatten(2))
    # Four chained matmul stages: the q/k/v projections (K = n_embd), q.k, weights.v, the output projection.
    assert_close(attn(x), expected, torch.float32, terms=CFG.n_embd, depth=4)


def test_attention_matches_torch_nn_multihead_attention():
    torch.manual_seed(0)
    attn = CausalSelfAttention(CFG)
    ref = torch.nn.MultiheadAttention(CFG.n_embd, CFG.n_head, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([attn.wq.weight, attn.wk.weight, attn.wv.weight]))
        ref.out_proj.weight.copy_(attn.wo.weight)
    x = torch.randn(2, 12, CFG.n_embd)
    future = torch.triu(torch.ones(12, 12, dtype=torch.bool), diagonal=1)   # True = may NOT attend
    expected, _ = ref(x, x, x, attn_mask=future, need_weights=False)
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
    # Position 0 sees only itself: every head returns its own value vector, then W_o mixes them.
    assert_close(attn(x)[:, 0], attn.wo(attn.wv(x))[:, 0], torch.float32, terms=CFG.n_embd, depth=2)   # wv, then wo


def test_block_matches_torch_transformer_encoder_layer():
    # PyTorch's own pre-norm layer (norm_first=True) with a causal mask is the same computation.
    torch.manual_seed(0)
    block = Block(CFG)
    with torch.no_grad():
        for norm in (block.attention_norm, block.ffn_norm):
            norm.weight.normal_(1.0, 0.2)                        # not all ones: the scale must be carried over
    ref = torch.nn.TransformerEncoderLayer(CFG.n_embd, CFG.n_head, dim_feedforward=4 * CFG.n_embd, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True, bias=False)
    ref.eval()
    with torch.no_grad():
        a = block.attention
        ref.self_attn.in_proj_weight.copy_(torch.cat([a.wq.weight, a.wk.weight, a.wv.weight]))
        ref.self_attn.out_proj.weight.copy_(a.wo.weight)
        ref.linear1.weight.copy_(block.feed_forward.w1.weight)
        ref.linear2.weight.copy_(block.feed_forward.w2.weight)
        ref.norm1.weight.copy_(block.attention_norm.weight)
        ref.norm2.weight.copy_(block.ffn_norm.weight)
    x = torch.randn(2, 11, CFG.n_embd)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(11)
    expected = ref(x, src_mask=mask, is_causal=True)
    # Attention (4 matmul stages) then the MLP (2); the longest reduction is the MLP's 4D hidden width.
    assert_close(block(x), expected, torch.float32, terms=4 * CFG.n_embd, depth=6)


def test_blocks_with_silenced_outputs_leave_the_residual_stream_unchanged():
    # If every block's last projections (W_o and W_2) are 0, each block adds 0: logits = head(norm(embeddings)).
    model = make_model()
    with torch.no_grad():
        for layer in model.layers:
            layer.attention.wo.weight.zero_()
            layer.feed_forward.w2.weight.zero_()
    idx = torch.randint(V, (2, 7))
    x = model.token_embedding(idx) + model.position_embedding(torch.arange(7))
    expected = F.linear(F.layer_norm(x, (CFG.n_embd,), model.norm.weight), model.lm_head.weight)
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
    a = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    b = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == (3, 21)
    assert int(a.min()) >= 0 and int(a.max()) < V
    assert len(set(a[:, 1:].flatten().tolist())) > 1      # sampling, not a constant
