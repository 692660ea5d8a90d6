"""What the trained masked-diffusion model learned: both answers, and more from more context."""
import torch

from mdm import canvas, denoise, mask_answer
from task import eval_problems, make_batch
from train import mdm_model


def test_the_first_answer_token_is_split_between_min_and_max():
    problems = [p for p in eval_problems(500) if len(p) == 8 and min(p) != max(p)]
    probs = denoise(mdm_model(), canvas(torch.tensor(problems)))[:, 9].softmax(-1)
    top2 = probs.topk(2, dim=-1).indices.tolist()
    hits = sum(set(t) == {min(p), max(p)} for t, p in zip(top2, problems)) / len(problems)
    # Recorded machine: 0.9+. Both right answers start with the min or the max; a model that learned only
    # one direction puts its second choice elsewhere. 0.7 leaves room for other CPUs' training rounding.
    assert hits >= 0.7


def test_more_visible_tokens_give_better_predictions():
    gen = torch.Generator().manual_seed(0)
    x = make_batch(gen, 400, 8)
    acc = {}
    for t in (0.25, 1.0):
        noisy, masked = mask_answer(x, 9, torch.full((400, 1), t), gen)
        pred = denoise(mdm_model(), noisy)[:, 9:].argmax(-1)
        acc[t] = float((pred == x[:, 9:])[masked].float().mean())
    # Recorded machine: 0.96 at t = 0.25 and 0.54 at t = 1 (run.py, table [1]); 0.8 and a gap of 0.2 hold
    # with room, and an untrained model (0.1, no gap) fails both.
    assert acc[0.25] >= 0.8 and acc[0.25] - acc[1.0] >= 0.2
