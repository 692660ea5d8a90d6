"""next_token_loss against F.cross_entropy and a float64 NumPy reference."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close
from loss import inputs_and_targets, next_token_loss
from model import Llama, ModelConfig


def numpy_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """-log softmax in float64, written independently of the code under test."""
    z = logits - logits.max(-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    return float(-picked.mean())


def test_shift_pairs_each_input_with_the_next_token():
    tokens = torch.arange(12).view(2, 6)
    x, y = inputs_and_targets(tokens)
    assert x.shape == y.shape == (2, 5)
    assert torch.equal(y, x + 1)  # target at t is the token at t+1


def test_loss_matches_float64_numpy_and_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 50, generator=g, dtype=torch.float64) * 4
    targets = torch.randint(50, (3, 7), generator=g)
    ours = next_token_loss(logits, targets)
    assert ours.dtype == torch.float64
    ref = numpy_cross_entropy(logits.numpy(), targets.numpy())
    # logsumexp over V = 50, then the mean over 21 positions: two chained reductions. The loss
    # is a difference of terms as large as the logits, so their size is the scale, not the loss's.
    scale = logits.abs().max().item()
    assert_close(ours, ref, torch.float64, terms=50, depth=2, scale=scale)
    torch_ref = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    assert_close(ours, torch_ref, torch.float64, terms=50, depth=2, scale=scale)


def test_gradient_matches_cross_entropy():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 5, 30, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(30, (2, 5), generator=g)
    (grad,) = torch.autograd.grad(next_token_loss(logits, targets), logits)
    (ref,) = torch.autograd.grad(F.cross_entropy(logits.flatten(0, 1), targets.flatten()), logits)
    assert_close(grad, ref, torch.float64, terms=30, depth=2)  # softmax over V = 30, then / (B*T)


def test_large_logits_do_not_overflow():
    logits = torch.tensor([[[1000.0, 0.0, -1000.0]]])
    loss = next_token_loss(logits, torch.tensor([[1]]))
    assert_close(loss, torch.tensor(1000.0), torch.float32, terms=3)  # an overflow would give inf or nan


def test_bf16_logits_are_widened_to_fp32():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 4, 100, generator=g).bfloat16()
    targets = torch.randint(100, (2, 4), generator=g)
    loss = next_token_loss(logits, targets)
    assert loss.dtype == torch.float32
    # The reference gets the same bf16 values exactly (widened to float64): the only rounding
    # left is the fp32 sum, V = 100 terms then a mean over 8. A sum in bf16 would be off by ~2^-7.
    ref = numpy_cross_entropy(logits.double().numpy(), targets.numpy())
    assert_close(loss, ref, torch.float32, terms=100, depth=2, scale=logits.abs().max().item())


def test_untrained_model_starts_near_ln_vocab():
    torch.manual_seed(0)
    cfg = ModelConfig()
    model = Llama(cfg)
    tokens = torch.randint(cfg.vocab_size, (4, 65))
    x, y = inputs_and_targets(tokens)
    with torch.no_grad():
        logits = model(x)
    assert logits.std() > 0.05  # not a constant output: the model is really computing
    loss = next_token_loss(logits, y).item()
    # A statistical bound, not a rounding one. Logits of spread sigma across the vocabulary give a
    # loss of about ln V + sigma^2/2 (logsumexp to second order), and the target's own logit adds
    # noise of size sigma per position: four standard errors of the mean over the B*T positions.
    sigma = logits.std(-1)
    expected = math.log(cfg.vocab_size) + (sigma.pow(2) / 2).mean().item()
    assert abs(loss - expected) < 4 * sigma.mean().item() / math.sqrt(y.numel())
