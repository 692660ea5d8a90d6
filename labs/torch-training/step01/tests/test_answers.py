"""The numbers in the README's worked answers (풀이), computed with this step's code."""
import math

import torch

from dlc_shared.testing import assert_close


# step 1: loss.py, model.py

def test_answer_uniform_loss_is_ln_v():
    """Q1: all-zero logits give a uniform softmax, whose cross-entropy is ln V (10.8249 for GPT-2, 11.7618 for Llama 3)."""
    from loss import next_token_loss
    for vocab, quoted in ((2048, 7.6246), (50257, 10.8249), (128256, 11.7618)):
        logits = torch.zeros(1, 2, vocab, dtype=torch.float64)
        targets = torch.tensor([[0, vocab - 1]])
        loss = next_token_loss(logits, targets).item()
        # logsumexp over V equal terms, then a mean over 2 positions
        assert_close(loss, math.log(vocab), torch.float64, terms=vocab, depth=2)
        assert round(loss, 4) == quoted


def test_answer_init_std_one():
    """Q2: with std 1 instead of 0.02 the logits spread like sqrt(d) = 11.3 and the loss starts near 39, not ln V."""
    from loss import inputs_and_targets, next_token_loss
    from model import Llama, ModelConfig
    torch.manual_seed(0)
    cfg = ModelConfig()
    model = Llama(cfg)
    for p in model.parameters():
        if p.dim() >= 2:
            torch.nn.init.normal_(p, std=1.0)
    torch.manual_seed(1)
    x, y = inputs_and_targets(torch.randint(cfg.vocab_size, (4, cfg.block_size + 1)))
    with torch.no_grad():
        logits = model(x)
    # Statistical bounds, not rounding: 4*128*2048 logits, each a sum of d = 128 unit products after RMSNorm;
    # the spread of the sample std is far below 5%, and the loss is about the expected max of V normals (~3.4 sigma).
    assert abs(logits.std().item() / math.sqrt(cfg.d_model) - 1) < 0.05
    assert 35 < next_token_loss(logits, y).item() < 42


def test_answer_sum_loss_scales_gradient_by_bt():
    """Q3: a summed loss has a gradient B*T = 1024 times the mean's (B = 16, T = 64)."""
    from loss import next_token_loss
    torch.manual_seed(0)
    B, T, V = 16, 64, 32
    logits = torch.randn(B, T, V, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(V, (B, T))
    (g_mean,) = torch.autograd.grad(next_token_loss(logits, targets), logits)
    (g_sum,) = torch.autograd.grad(next_token_loss(logits, targets) * (B * T), logits)
    assert B * T == 1024
    assert_close(g_sum, g_mean * 1024, torch.float64, terms=V, depth=3)
