"""torch.compile (inductor) against eager PyTorch on the same weights: outputs and gradients.

Slow the first time (inductor generates and compiles C++ for this CPU); the kernels
are cached on disk (/tmp/torchinductor_<user>), so later runs take seconds.
"""
import pytest
import torch

from dlc_shared.testing import assert_close
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
    # Inductor fuses and reorders fp32 work: forward reductions up to d_ff = 64 long, one attention
    # and one MLP sublayer and the head (depth 3); backward also sums over B*T = 128 positions and
    # runs the chain in reverse (depth 6). Each gradient against its own size.
    assert_close(comp_logits, eager_logits, torch.float32, terms=TINY.d_ff, depth=2 * TINY.n_layer + 1)
    for a, b in zip(comp_grads, eager_grads):
        assert_close(a, b, torch.float32, terms=8 * 16, depth=2 * (2 * TINY.n_layer + 1))


@pytest.mark.slow
def test_training_compiled_follows_eager():
    def run(compile):
        cfg = TrainConfig(steps=3, batch_size=8, block_size=16, lr=1e-2, warmup_steps=1, min_lr=1e-3,
                          log_interval=1000, eval_batches=1, eval_interval=1000, compile=compile)
        return train(cfg, TINY, log=lambda _: None)[1]
    eager, compiled = run(False), run(True)
    # Three steps of fp32 training, each loss a mean over B*T = 128 positions.
    assert_close(compiled["loss"], eager["loss"], torch.float32, terms=8 * 16, depth=3)
    assert len(compiled["step_s"]) == 3
