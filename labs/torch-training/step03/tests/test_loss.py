"""next_token_loss against F.cross_entropy and a float64 NumPy reference."""
import math

import numpy as np
import torch
import torch.nn.functional as F

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
    assert math.isclose(ours.item(), ref, rel_tol=1e-12)
    torch_ref = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    assert math.isclose(ours.item(), torch_ref.item(), rel_tol=1e-12)


def test_gradient_matches_cross_entropy():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 5, 30, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(30, (2, 5), generator=g)
    (grad,) = torch.autograd.grad(next_token_loss(logits, targets), logits)
    (ref,) = torch.autograd.grad(F.cross_entropy(logits.flatten(0, 1), targets.flatten()), logits)
    torch.testing.assert_close(grad, ref, rtol=1e-12, atol=1e-15)


def test_large_logits_do_not_overflow():
    logits = torch.tensor([[[1000.0, 0.0, -1000.0]]])
    loss = next_token_loss(logits, torch.tensor([[1]]))
    assert math.isclose(loss.item(), 1000.0, rel_tol=1e-6)


def test_bf16_logits_are_widened_to_fp32():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 4, 100, generator=g).bfloat16()
    targets = torch.randint(100, (2, 4), generator=g)
    loss = next_token_loss(logits, targets)
    assert loss.dtype == torch.float32
    ref = numpy_cross_entropy(logits.double().numpy(), targets.numpy())
    assert math.isclose(loss.item(), ref, rel_tol=1e-6)


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
    assert abs(loss - math.log(cfg.vocab_size)) < 0.15
