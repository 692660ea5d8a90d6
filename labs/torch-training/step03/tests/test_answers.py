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


# step 2: data.py, sample.py

def test_answer_embedding_size_by_vocab():
    """Q1: V x d embedding rows: 434,816 parameters at V = 512, 631,424 at 2048, 1,417,856 at 8192."""
    from model import Llama, ModelConfig
    for vocab, total in ((512, 434_816), (2048, 631_424), (8192, 1_417_856)):
        model = Llama(ModelConfig(vocab_size=vocab))
        assert model.embed_tokens.weight.numel() == vocab * 128
        assert model.num_params() == total
    assert round(8192 * 128 / 1_417_856, 2) == 0.74  # the embedding's share at V = 8192


def test_answer_unigram_gap():
    """Q2: unigram 6.1118 is 1.5128 nats below ln 2048; the train frequencies' own entropy is 6.1402 (KL 1.4845)."""
    from data import load_split, unigram_cross_entropy
    train, val = load_split("train", 2048), load_split("val", 2048)
    unigram = unigram_cross_entropy(train, val, 2048)
    assert round(unigram, 4) == 6.1118
    assert round(math.log(2048) - unigram, 4) == 1.5128
    counts = torch.bincount(train, minlength=2048).double() + 1  # the same add-one smoothing as data.py
    p = counts / counts.sum()
    entropy = -(p * p.log()).sum().item()
    kl_to_uniform = (p * (p * 2048).log()).sum().item()
    assert (round(entropy, 5), round(kl_to_uniform, 5)) == (6.14016, 1.48446)
    # H(p) = ln V - KL(p || uniform): a sum of 2048 float64 terms
    assert_close(entropy, math.log(2048) - kl_to_uniform, torch.float64, terms=2048, depth=2)


def test_answer_temperature_probabilities():
    """Q3: logits (2, 1, 0) give p_top = 0.9644 at tau 0.3, 0.6652 at 1.0, 0.5627 at 1.5."""
    logits = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    quoted = {0.3: (0.9644, 0.0344, 0.0012), 1.0: (0.6652, 0.2447, 0.0900), 1.5: (0.5627, 0.2889, 0.1483)}
    for tau, probs in quoted.items():
        p = torch.softmax(logits / tau, -1)
        assert tuple(round(x, 4) for x in p.tolist()) == probs


# step 3: optim.py

def _one_adamw_step(grad: torch.Tensor, lr: float) -> torch.Tensor:
    """The update AdamW makes on its first step (t = 1) from zero state, weight decay off."""
    from optim import AdamW
    p = torch.zeros_like(grad, requires_grad=True)
    p.grad = grad.clone()
    AdamW([p], lr=lr, betas=(0.9, 0.95), weight_decay=0.0).step()
    return p.detach()


def test_answer_first_step_bias_correction():
    """Q1: at t = 1, m = 0.1 g and v = 0.05 g^2; uncorrected m/sqrt(v) = 0.4472 sign(g), corrected = sign(g)."""
    g = torch.tensor([3.0, -0.02, 1e-3], dtype=torch.float64)
    m, v = (1 - 0.9) * g, (1 - 0.95) * g * g
    assert round(0.1 / math.sqrt(0.05), 4) == 0.4472
    # the ratio without correction: a division and a square root on float64 values
    assert_close(m / v.sqrt(), (0.1 / math.sqrt(0.05)) * g.sign(), torch.float64, depth=4, scale=1.0)
    # the code's bias-corrected first update is -lr * sign(g), up to eps = 1e-8 against |g| >= 1e-3
    update = _one_adamw_step(g, lr=1.0)
    assert torch.allclose(update, -g.sign(), rtol=0, atol=1e-5)  # bound: eps/|g| = 1e-5 at the smallest g


def test_answer_warmup_values():
    """Q3: lr_at starts at eta_max/W = 1.5e-4 (step 0), reaches 3e-3 at step 19; with W = 0 step 0 already gets 3e-3."""
    from optim import lr_at
    schedule = [lr_at(s, 3e-3, 20, 300, 3e-4) for s in range(300)]
    assert_close(schedule[0], 1.5e-4, torch.float64, depth=2)
    assert_close(schedule[1], 3e-4, torch.float64, depth=2)
    assert_close(schedule[19], 3e-3, torch.float64, depth=2)
    assert_close(schedule[20], 3e-3, torch.float64, depth=4)
    assert f"{schedule[299]:.5g}" == "0.00030008"  # the last step ends just above eta_min
    assert lr_at(0, 3e-3, 0, 300, 3e-4) == 3e-3
