import torch

from task import MASK, MAX_N, MIN_N, SEP, eval_problems, exact_match, is_right, make_batch


def test_batches_hold_both_right_answers():
    x = make_batch(torch.Generator().manual_seed(0), 64, 6)
    assert x.shape == (64, 13) and (x[:, 6] == SEP).all() and not (x == MASK).any()
    ups = downs = 0
    for row in x.tolist():
        prompt, answer = row[:6], row[7:]
        assert is_right(prompt, answer)
        ups += answer == sorted(prompt)
        downs += answer == sorted(prompt, reverse=True)
    assert ups > 10 and downs > 10


def test_exact_match_counts_whole_answers():
    prompts = [[3, 1, 2, 2], [5, 0, 9, 1]]
    assert exact_match(prompts, [[1, 2, 2, 3], [9, 5, 1, 0]]) == 1.0
    assert exact_match(prompts, [[1, 2, 2, 3], [0, 1, 9, 5]]) == 0.5   # half up, half down is wrong


def test_eval_problems_are_fixed_and_cover_every_length():
    a, b = eval_problems(), eval_problems()
    assert a == b and len(a) == 500
    assert {len(p) for p in a} == set(range(MIN_N, MAX_N + 1))
