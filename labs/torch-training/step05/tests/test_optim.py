"""AdamW against torch.optim.AdamW, the schedule against torch's schedulers, clipping against torch."""
import pytest
import torch

from dlc_shared.testing import assert_close
from model import Llama, ModelConfig
from optim import AdamW, clip_grad_norm, lr_at, param_groups


def tiny_model() -> Llama:
    torch.manual_seed(0)
    return Llama(ModelConfig(vocab_size=31, block_size=8, n_layer=1, n_head=2, n_kv_head=1,
                             d_model=16, d_ff=24)).double()


def test_adamw_matches_torch_adamw_over_several_steps():
    ours_model, ref_model = tiny_model(), tiny_model()
    ours = AdamW(param_groups(ours_model, 0.1), lr=1e-2, betas=(0.9, 0.95))
    ref = torch.optim.AdamW(param_groups(ref_model, 0.1), lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(1)
    for step, lr in enumerate([1e-2, 5e-3, 2e-2, 1e-3, 1e-2]):
        idx = torch.randint(31, (2, 8), generator=g)
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            for group in opt.param_groups:
                group["lr"] = lr  # the schedule changes lr between steps; both must follow
            opt.zero_grad()
            model(idx).pow(2).mean().backward()
            opt.step()
    # float64; the gradients reduce over B*T = 16 positions (and d = 16), five steps chained.
    for a, b in zip(ours_model.parameters(), ref_model.parameters()):
        assert_close(a, b, torch.float64, terms=16, depth=5)
    moved = [(a - b).abs().max().item() for a, b in zip(ours_model.parameters(), tiny_model().parameters())]
    assert min(moved) > 1e-4  # every parameter really moved (no-decay RMSNorm gains too)


def test_norm_gains_are_not_decayed():
    model = tiny_model()
    groups = param_groups(model, 0.1)
    assert all(p.dim() == 1 for p in groups[1]["params"]) and groups[1]["weight_decay"] == 0.0
    assert sum(p.numel() for g in groups for p in g["params"]) == model.num_params()


def test_schedule_matches_torch_warmup_then_cosine():
    max_lr, min_lr, warmup, total = 1.0, 0.1, 5, 40
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / warmup, total_iters=warmup - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)],
        milestones=[warmup])
    for step in range(total + 1):
        # torch updates lr by a factor per step (chained), we evaluate the formula: step+1 roundings.
        assert_close(lr_at(step, max_lr, warmup, total, min_lr), opt.param_groups[0]["lr"], torch.float64,
                     depth=step + 1, scale=max_lr)
        opt.step()
        sched.step()


@pytest.mark.parametrize("step, expected", [
    (0, 0.1),     # first warmup step: max/warmup
    (9, 1.0),     # warmup ends at the peak
    (55, 0.55),   # half-way down: (max+min)/2
    (100, 0.1),   # the end: min_lr
])
def test_schedule_key_points(step, expected):
    # A few float64 operations (a cosine, a product, a sum) on values of size max_lr = 1.
    assert_close(lr_at(step, 1.0, 10, 100, 0.1), expected, torch.float64, depth=4, scale=1.0)


@pytest.mark.parametrize("max_norm", [0.05, 1e3])
def test_clipping_matches_torch(max_norm):
    model_a, model_b = tiny_model(), tiny_model()
    idx = torch.randint(31, (2, 8), generator=torch.Generator().manual_seed(2))
    for m in (model_a, model_b):
        m(idx).pow(2).mean().backward()
    norm = clip_grad_norm(model_a.parameters(), max_norm)
    ref_norm = torch.nn.utils.clip_grad_norm_(model_b.parameters(), max_norm)
    n = model_a.num_params()  # the norm sums a square per parameter: one reduction of n terms
    assert_close(norm, ref_norm, torch.float64, terms=n, depth=2)  # squares summed, then a sqrt
    assert (norm > max_norm) == (max_norm == 0.05)  # one case clips, the other does not
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert_close(a.grad, b.grad, torch.float64, terms=n, depth=3)  # the norm, the scale, the product
    clipped = torch.sqrt(sum(p.grad.pow(2).sum() for p in model_a.parameters())).item()
    # Both clip to max_norm / (norm + 1e-6): a hair under max_norm, by design (no division by 0).
    expected = norm * min(1.0, max_norm / (norm + 1e-6))
    assert_close(clipped, expected, torch.float64, terms=n, depth=4)
