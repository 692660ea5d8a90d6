"""KV-cache decoding gives the tokens, and the logits, of running the whole sequence each step."""
import torch

from ar import generate_ar, generate_ar_nocache, solve, with_sep
from dlc_shared.testing import assert_close
from model import Config, Transformer, causal_mask, positions


def seeded_model():
    torch.manual_seed(1)
    return Transformer(Config()).eval()


def test_cache_and_no_cache_give_the_same_tokens():
    model = seeded_model()
    prompts = torch.randint(0, 10, (6, 8), generator=torch.Generator().manual_seed(0))
    cached, full = generate_ar(model, prompts), generate_ar_nocache(model, prompts)
    assert len(set(full.flatten().tolist())) > 1
    assert torch.equal(cached, full)


def test_each_decode_step_matches_the_full_forward():
    """Feed the cached decoder's tokens back through one full causal forward: every step's logits agree."""
    model = seeded_model()
    prompts = torch.randint(0, 10, (4, 8), generator=torch.Generator().manual_seed(2))
    out = generate_ar(model, prompts)
    seq = torch.cat([with_sep(prompts), out], dim=1)
    T = seq.shape[1]
    full, _ = model(seq, positions(T, 4), causal_mask(T, 4))
    x = with_sep(prompts)
    logits, past = model(x, positions(9, 4), causal_mask(9, 4))
    steps = [logits[:, -1]]
    for i in range(7):
        allowed = torch.ones(4, 1, 10 + i, dtype=torch.bool)
        logits, new = model(out[:, i:i + 1], torch.full((4, 1), 9 + i), allowed, past)
        past = [(torch.cat([pk, k], 2), torch.cat([pv, v], 2)) for (pk, pv), (k, v) in zip(past, new)]
        steps.append(logits[:, -1])
    # same math, another summation order (a GEMV against a GEMM); longest reduction: 256 MLP units, 2 layers + head
    assert_close(torch.stack(steps, 1), full[:, 8:16], torch.float32, terms=256, depth=3)


def test_a_cache_that_drops_the_past_would_be_caught():
    """Mutation: decode each token against only itself (no past) and the tokens change."""
    model = seeded_model()
    prompts = torch.randint(0, 10, (6, 8), generator=torch.Generator().manual_seed(0))
    x = with_sep(prompts)
    logits, _ = model(x, positions(9, 6), causal_mask(9, 6))
    tok = logits[:, -1].argmax(-1)
    broken = [tok]
    for i in range(7):
        logits, _ = model(broken[-1][:, None], torch.full((6, 1), 9 + i), torch.ones(6, 1, 1, dtype=torch.bool))
        broken.append(logits[:, -1].argmax(-1))
    assert not torch.equal(torch.stack(broken, 1), generate_ar_nocache(model, prompts))


def test_solve_keeps_the_order_of_mixed_lengths():
    model = seeded_model()
    problems = [[1, 2, 3, 4, 5], [9, 8, 7, 6], [3, 3, 1, 2, 0, 5]]
    out = solve(model, problems)
    assert [len(o) for o in out] == [5, 4, 6]
    for p, o in zip(problems, out):
        assert o == generate_ar_nocache(model, torch.tensor([p]))[0].tolist()
