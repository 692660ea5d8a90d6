"""The canvas decoder: its schedule, its choice of positions, and its reduction to AR decoding."""
import pytest
import torch

from ar import generate_ar_nocache
from decode import generate_diffusion, mdm_logits, pick, schedule
from model import Config, Transformer, causal_mask, positions
from task import MASK


def test_schedule_spreads_n_tokens_over_the_steps():
    assert schedule(8, 8) == [1] * 8
    assert schedule(8, 3) == [3, 3, 2]
    assert schedule(5, 1) == [5]
    for n in range(4, 9):
        for s in range(1, n + 1):
            assert sum(schedule(n, s)) == n and len(schedule(n, s)) == s
    with pytest.raises(ValueError):
        schedule(4, 5)


def test_confidence_picks_the_most_certain_masked_positions():
    gen = torch.Generator().manual_seed(0)
    probs = torch.rand(6, 8, 13, generator=gen).softmax(-1)
    still = torch.rand(6, 8, generator=gen) < 0.7
    still[:, 0] = True
    chosen = pick(probs, still, 1, "confidence")
    for b in range(6):
        conf = [(float(probs[b, i].max()), i) for i in range(8) if still[b, i]]
        assert chosen[b].nonzero().flatten().tolist() == [max(conf)[1]]
    ltr = pick(probs, still, 2, "left-to-right")
    for b in range(6):
        assert ltr[b].nonzero().flatten().tolist() == still[b].nonzero().flatten().tolist()[:2]
    assert not (pick(probs, still, 1, "random", torch.Generator().manual_seed(0)) & ~still).any()


def ar_logits(model):
    """A causal model as a denoiser: answer position j is predicted at the position before it."""
    def fn(x, n):
        B, T = x.shape
        return model(x, positions(T, B), causal_mask(T, B))[0][:, -n - 1:-1]
    return fn


def test_left_to_right_one_token_a_step_under_a_causal_model_is_ar_decoding():
    """The causal model never sees the MASKs to its right, so this loop is greedy AR decoding."""
    torch.manual_seed(3)
    model = Transformer(Config()).eval()
    prompts = torch.randint(0, 10, (8, 7), generator=torch.Generator().manual_seed(1))
    ar = generate_ar_nocache(model, prompts)
    assert len(set(ar.flatten().tolist())) > 1 and not (ar == MASK).any()   # the decoder never commits MASK
    assert torch.equal(generate_diffusion(ar_logits(model), prompts, 7, "left-to-right"), ar)
    # mutation: unmasking in confidence order instead gives other tokens under the same model
    assert not torch.equal(generate_diffusion(ar_logits(model), prompts, 7, "confidence"), ar)


def test_committed_tokens_stay_and_every_mask_is_filled():
    torch.manual_seed(4)
    model = Transformer(Config()).eval()
    prompts = torch.randint(0, 10, (5, 8), generator=torch.Generator().manual_seed(2))
    trace = []
    out = generate_diffusion(mdm_logits(model), prompts, 3, "confidence", trace=trace)
    assert [int((c != MASK).sum(1)[0]) for c in trace] == [3, 6, 8]
    for before, after in zip(trace, trace[1:]):
        kept = before != MASK
        assert torch.equal(after[kept], before[kept])
    assert not (out == MASK).any()
