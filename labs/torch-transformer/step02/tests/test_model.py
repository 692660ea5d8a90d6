"""The attention head against PyTorch's scaled_dot_product_attention; the model against float64 NumPy."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close
from model import CausalSelfAttention, Config, LanguageModel

V = 50
CFG = Config(vocab_size=V, block_size=16, n_embd=32)


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


@pytest.mark.parametrize("T", [1, 5, 16])
def test_head_matches_torch_sdpa_with_is_causal(T):
    torch.manual_seed(T)
    head = CausalSelfAttention(CFG)
    x = torch.randn(3, T, CFG.n_embd)
    q, k, v = head.wq(x), head.wk(x), head.wv(x)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # default scale is 1/sqrt(d)
    # q.k over C features, softmax, weights.v: a weighted mean of v rows, so |v| is the scale.
    assert_close(head(x), expected, torch.float32, terms=CFG.n_embd, depth=2, scale=float(v.detach().abs().max()))


def test_head_never_reads_the_future():
    torch.manual_seed(0)
    head = CausalSelfAttention(CFG)
    x = torch.randn(2, 10, CFG.n_embd)
    y = x.clone()
    y[:, 6:] = torch.randn(2, 4, CFG.n_embd)                  # change only positions 6..9
    assert torch.equal(head(x)[:, :6], head(y)[:, :6])   # the future changed, these rows' inputs did not: exact
    # Position 0 sees only itself: its output is exactly its own value vector.
    assert_close(head(x)[:, 0], head.wv(x)[:, 0], torch.float32, terms=CFG.n_embd)   # weight 1 on one v row


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
