"""The numbers the README's 풀이 quote, computed with this step's code."""
import torch

from ar import generate_ar, generate_ar_nocache
from model import Config, Transformer


class Counting:
    """Wraps the model: counts the positions it computes and keeps the keys and values it returns."""

    def __init__(self, model):
        self.model, self.positions, self.kv_bytes = model, 0, 0

    def __call__(self, idx, pos, allowed, past=None):
        self.positions += idx.shape[0] * idx.shape[1]
        logits, new = self.model(idx, pos, allowed, past)
        self.kv_bytes += sum(k.nbytes + v.nbytes for k, v in new)
        return logits, new


def test_answer_positions_computed():
    torch.manual_seed(0)
    model = Transformer(Config()).eval()
    prompt = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]])
    full, cached = Counting(model), Counting(model)
    generate_ar_nocache(full, prompt)
    generate_ar(cached, prompt)
    assert full.positions == sum(range(9, 17)) == 100
    assert cached.positions == 9 + 7 == 16


def test_answer_cache_bytes():
    torch.manual_seed(0)
    cached = Counting(Transformer(Config()).eval())
    generate_ar(cached, torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]]))
    assert cached.kv_bytes == 2 * 2 * 64 * 16 * 4 == 16_384


def test_answer_weighted_loss_per_problem():
    """Uniform logits: every masked token costs ln V; with the 1/t weight the expected loss is ln V for any t."""
    import math

    import mdm
    assert 5 * (0.2 + 0.4 + 0.6 + 0.8) == 10.0 and 4 * 5 == 20 and 20 / 10 == 2
    gen = torch.Generator().manual_seed(0)
    rows = 20_000
    t = torch.tensor([0.2, 0.4, 0.6, 0.8]).repeat(rows // 4)[:, None]
    x = torch.randint(0, 10, (rows, 5), generator=gen)
    _, masked = mdm.mask_answer(x, 0, t, gen)
    assert abs(float(masked.sum()) / (rows / 4) - 10) < 0.2      # expected masked tokens per 4 problems
    loss = mdm.mdm_loss(torch.zeros(rows, 5, 13), x, masked, t)
    # 20,000 problems: the weighted sum's standard error is under 1% of ln 13
    assert abs(float(loss) - math.log(13)) < 0.03 * math.log(13)


def test_answer_one_step_chance():
    assert 2 * 0.5**8 == 1 / 128


def test_answer_schedules():
    from decode import schedule
    assert schedule(8, 3) == [3, 3, 2] and schedule(5, 2) == [3, 2]


def test_answer_canvas_passes():
    from ar import solve
    from decode import generate_diffusion, mdm_logits
    from task import eval_problems
    torch.manual_seed(0)
    model = Transformer(Config()).eval()
    calls, positions = [], []

    def counted(idx, *a, **k):
        calls.append(1)
        positions.append(idx.shape[1])
        return model(idx, *a, **k)
    solve(counted, eval_problems(5), lambda m, p: generate_diffusion(mdm_logits(m), p, p.shape[1]))  # one per length
    assert len(calls) == 4 + 5 + 6 + 7 + 8 == 30
    assert positions.count(17) == 8 and 8 * 17 == 136


def test_answer_sweep_passes_and_positions():
    from sweep import forward_passes
    from task import eval_problems
    assert forward_passes(eval_problems(500), 4) == 20 and forward_passes(eval_problems(500), 2) == 10
    assert 2 * 17 / 8 == 4.25 and (9 + 7) / 8 == 2 and 4.25 / 2 == 2.125
