"""Mixed precision against fp32 on the same weights and batch, and training in each precision."""
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close, gpu
from loss import next_token_loss
from model import Llama, ModelConfig
from train import TrainConfig, autocast, train

SMALL = ModelConfig(vocab_size=2048, block_size=32, n_layer=2, n_head=4, n_kv_head=2, d_model=64, d_ff=128)


def loss_and_grads(precision: str, scale: float = 1.0):
    torch.manual_seed(0)
    model = Llama(SMALL)
    idx = torch.randint(SMALL.vocab_size, (4, 33), generator=torch.Generator().manual_seed(1))
    with autocast(TrainConfig(precision=precision)):
        logits = model(idx[:, :-1])
        loss = next_token_loss(logits, idx[:, 1:])
    (loss * scale).backward()
    grads = torch.cat([p.grad.flatten() / scale for p in model.parameters()])
    return logits.dtype, logits.detach().float(), loss.item(), grads


@pytest.mark.parametrize("precision, dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_autocast_matches_fp32_within_16_bit_error(precision, dtype):
    _, logits32, loss32, grads32 = loss_and_grads("fp32")
    logits_dtype, logits16, loss16, grads16 = loss_and_grads(precision,
                                                             scale=1024.0 if precision == "fp16" else 1.0)
    assert logits_dtype == dtype  # the matmuls really ran in 16 bits
    assert grads16.dtype == torch.float32  # while the gradients of the fp32 weights stay fp32
    assert not torch.equal(logits16, logits32)  # rounding really happened (the loss itself may tie to the last bit)
    # The same computation rounded to 16 bits: the longest reduction is d_ff; each attention and MLP
    # sublayer and the output head is a rounding stage.
    assert_close(logits16, logits32, dtype, terms=max(SMALL.d_model, SMALL.d_ff, SMALL.block_size),
                 depth=2 * SMALL.n_layer + 1)
    # A loss threshold, tighter than that worst case: 16 bits keep 8 (bf16) or 11 (fp16) significant
    # bits, ~0.4% or less per rounding, and the mean over B*T = 128 positions averages those errors
    # out, so the loss moves far less than 1% (a few 1e-6 relative here).
    assert abs(loss16 - loss32) / loss32 < 1e-2
    # A direction bound, not a rounding bound: 16-bit rounding perturbs each gradient entry a little
    # and at random, which leaves the direction of the whole gradient unchanged (cosine 1.0000 to 4
    # decimals here); an unscaled fp16 gradient that underflowed or a wrong cast would point elsewhere.
    assert F.cosine_similarity(grads16, grads32, dim=0) > 0.99


def test_fp16_without_scaling_loses_small_gradients():
    """Why GradScaler exists: a 1e-8 gradient is below fp16's smallest subnormal (~6e-8)."""
    g = torch.tensor([1e-8, 1e-4])
    assert g.half()[0] == 0 and (g * 65536).half()[0] != 0


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_training_in_16_bit_follows_fp32(precision):
    def run(p):
        cfg = TrainConfig(steps=15, batch_size=8, block_size=32, lr=1e-2, warmup_steps=3, min_lr=1e-3,
                          log_interval=1000, eval_batches=1, eval_interval=1000, precision=p)
        return train(cfg, SMALL, log=lambda _: None)[1]
    ref, low = run("fp32"), run(precision)
    assert low["loss"] != ref["loss"]
    # Loss thresholds, not rounding bounds: two runs that differ in rounding drift apart with every
    # update; 0.1 nat is a small part of what these 15 steps lower the loss (checked next, > 0.5).
    assert max(abs(a - b) for a, b in zip(low["loss"], ref["loss"])) < 0.1
    assert low["loss"][-1] < low["loss"][0] - 0.5


@gpu
def test_cuda_bf16_training_follows_cpu_fp32():
    def run(device, precision):
        cfg = TrainConfig(steps=15, batch_size=8, block_size=32, lr=1e-2, warmup_steps=3, min_lr=1e-3,
                          log_interval=1000, eval_batches=1, eval_interval=1000, precision=precision,
                          device=device)
        return train(cfg, SMALL, log=lambda _: None)[1]
    ref, cuda = run("cpu", "fp32"), run("cuda", "bf16")
    assert max(abs(a - b) for a, b in zip(cuda["loss"], ref["loss"])) < 0.1  # as in the CPU test above
