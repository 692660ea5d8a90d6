"""torch.compile (inductor) against eager PyTorch on the same weights: outputs and gradients.

Slow the first time (inductor generates and compiles C++ for this CPU); the kernels
are cached on disk (/tmp/torchinductor_<user>), so later runs take seconds.
"""
import pytest
import torch

from loss import next_token_loss
from model import Llama, ModelConfig
from train import TrainConfig, train

TINY = ModelConfig(vocab_size=2048, block_size=16, n_layer=1, n_head=2, n_kv_head=1, d_model=32, d_ff=64)


@pytest.mark.slow
def test_compiled_forward_and_backward_match_eager():
    torch.manual_seed(0)
    model = Llama(TINY)
    idx = torch.randint(TINY.vocab_size, (8, 17), generator=torch.Generator().manual_seed(1))
    params = list(model.parameters())
    results = []
    for fn in (model, torch.compile(model)):
        logits = fn(idx[:, :-1])
        grads = torch.autograd.grad(next_token_loss(logits, idx[:, 1:]), params)
        results.append((logits.detach(), grads))
    (eager_logits, eager_grads), (comp_logits, comp_grads) = results
    assert eager_logits.std() > 0.05  # a real computation, not a constant
    torch.testing.assert_close(comp_logits, eager_logits, rtol=1e-4, atol=1e-5)
    for a, b in zip(comp_grads, eager_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_training_compiled_follows_eager():
    def run(compile):
        cfg = TrainConfig(steps=3, batch_size=8, block_size=16, lr=1e-2, warmup_steps=1, min_lr=1e-3,
                          log_interval=1000, eval_batches=1, eval_interval=1000, compile=compile)
        return train(cfg, TINY, log=lambda _: None)[1]
    eager, compiled = run(False), run(True)
    torch.testing.assert_close(compiled["loss"], eager["loss"], rtol=1e-4, atol=0)
    assert len(compiled["step_s"]) == 3
