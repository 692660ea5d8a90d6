"""Threshold decoding: the rule, and its two limits (threshold above 1: one token a step; 0: all at once)."""
import torch

from block import generate_block
from model import Config, Transformer
from parallel import pick_threshold


def test_threshold_rule_by_hand():
    probs = torch.zeros(3, 4, 13)
    conf = torch.tensor([[0.95, 0.5, 0.91, 0.6], [0.6, 0.95, 0.55, 0.7], [0.99, 0.99, 0.99, 0.99]])
    probs[..., 0] = conf
    probs[..., 1] = 1 - conf
    still = torch.tensor([[True, True, True, True], [True, False, True, True], [False, False, False, False]])
    chosen = pick_threshold(probs, still, 0.9)
    assert chosen.tolist() == [[True, False, True, False],    # both above 0.9
                               [False, False, False, True],   # none masked above: the top masked one (0.7)
                               [False, False, False, False]]  # nothing left to commit


def seeded():
    torch.manual_seed(6)
    return Transformer(Config()).eval()


def test_a_threshold_above_one_is_one_token_a_step():
    model = seeded()
    prompts = torch.randint(0, 10, (1, 8), generator=torch.Generator().manual_seed(0))
    counts = []
    out = generate_block(model, prompts, 4, threshold=1.01, counts=counts)
    assert len(set(out.flatten().tolist())) > 1
    assert torch.equal(out, generate_block(model, prompts, 4))
    assert len(counts) == 8


def test_a_threshold_of_zero_fills_a_block_in_one_step():
    model = seeded()
    prompts = torch.randint(0, 10, (3, 8), generator=torch.Generator().manual_seed(0))
    counts = []
    generate_block(model, prompts, 4, threshold=0.0, counts=counts)
    assert len(counts) == 2                                    # one forward pass per block
