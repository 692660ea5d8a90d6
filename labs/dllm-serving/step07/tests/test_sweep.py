"""The sweep counts its forward passes right, and fewer steps cost accuracy on the two-answer task."""
import torch

from ar import solve
from model import Config, Transformer
from sweep import STEP_COUNTS, decode_with, forward_passes, measure
from task import eval_problems


def test_forward_passes_are_counted_not_assumed():
    torch.manual_seed(8)
    model = Transformer(Config()).eval()
    problems = eval_problems(5)                      # one problem of each length 4..8
    for steps in STEP_COUNTS:
        calls = []

        def counted(*a, **k):
            calls.append(1)
            return model(*a, **k)
        solve(counted, problems, decode_with(steps))
        assert len(calls) == forward_passes(problems, steps) == sum(min(steps, n) for n in range(4, 9))
    assert len(STEP_COUNTS) >= 4


def test_fewer_steps_mix_the_two_answers():
    from train import mdm_model
    rows = {s: measure(mdm_model(), eval_problems(100), s)["exact_match"] for s in (1, 8)}
    # Recorded machine (500 problems): 0.04 at 1 step and 0.854 at 8 (results/steps_vs_quality.json). One step
    # commits every token from its own marginal, so the two right answers mix; a gap of 0.3 survives
    # any CPU's rounding of the training, and a decoder that ignored `steps` would show no gap at all.
    assert rows[8] - rows[1] >= 0.3
