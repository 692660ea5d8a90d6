"""The numbers in the README's worked answers (풀이), computed with this step's code."""
from anatomy import activation_bytes, model_state_bytes
from loss import next_token_loss
from train import TrainConfig, batch, make_model, make_optimizer


def test_answer_7b_mixed_precision_adam():
    """Q1: 7e9 parameters x 16 bytes = 112 GB (1.12e11 bytes)."""
    assert 7 * 10**9 * (2 + 2 + 4 + 4 + 4) == 112 * 10**9 == 7 * 10**9 * (4 + 4 + 8)


def test_answer_adam_state_is_8n_plus_80():
    """Q2: 8N = 263,424 and 20 step counters of 4 bytes: 263,504."""
    cfg = TrainConfig()
    model = make_model(cfg)
    opt = make_optimizer(model, cfg)
    x, y = batch(0, cfg, model)
    next_token_loss(model(x), y).backward()
    opt.step()
    assert len(list(model.parameters())) == 20 and 2 + 9 * 2 == 20
    assert 8 * model.num_params() == 263_424
    assert model_state_bytes(model, opt)["optimizer"] == 263_504


def test_answer_activation_line_and_crossover():
    """Q3: 229,184 and 456,256 bytes at B = 1, 2: a = 227,072, c = 2,112; B = 3 crosses 526,928."""
    cfg = TrainConfig()
    model = make_model(cfg)
    x, y = batch(0, cfg, model)
    b1, b2, b8 = (activation_bytes(model, x[:b], y[:b]) for b in (1, 2, 8))
    assert (b1, b2) == (229_184, 456_256)
    a, c = b2 - b1, 2 * b1 - b2
    assert (a, c) == (227_072, 2_112)
    state = 16 * model.num_params() + 80
    assert state == 526_928
    assert 2 * a + c < state < 3 * a + c == 683_328
    assert b8 == 8 * a + c == 1_818_688


# step 2: dp.py

def test_answer_ring_all_reduce_bytes():
    """Q1: 2 (k-1)/k n: 131,712 bytes (k = 2), 197,568 (k = 4); 7B bf16 on 8 ranks: 2.45e10 bytes."""
    n = 4 * make_model(TrainConfig()).num_params()
    assert n == 131_712
    assert 2 * (2 - 1) * n // 2 == 131_712 and 2 * (4 - 1) * n // 4 == 197_568
    assert 2 * 7 * (2 * 7 * 10**9) // 8 == 24_500_000_000


def test_answer_one_all_reduce_per_tensor():
    """Q3: naive DP calls all_reduce once per parameter tensor: 20 per step."""
    import torch.distributed as dist
    from dp import all_reduce_grads
    model = make_model(TrainConfig())
    for p in model.parameters():
        p.grad = p.detach().clone()
    calls = []
    real = dist.all_reduce
    dist.all_reduce = lambda t, op=None: calls.append(t.numel())
    try:
        all_reduce_grads(model, 1)
    finally:
        dist.all_reduce = real
    assert len(calls) == 20 and min(calls) * 4 == 128
