"""One padded batch of mixed lengths gives every request the answer it gets alone."""
import torch

from ar import generate_ar
from decode import generate_diffusion, mdm_logits
from model import Config, Transformer
from serving import generate_canvas_batch, pad_canvases, positions_per_token_ar, positions_per_token_canvas
from task import MASK, PAD, SEP


def seeded():
    torch.manual_seed(7)
    return Transformer(Config()).eval()


PROMPTS = [[3, 1, 4, 1], [5, 9, 2, 6, 5, 3, 5, 8], [9, 7, 9, 3, 2, 3], [8, 4, 6, 2, 6]]


def test_padding_by_hand():
    x, allowed = pad_canvases([[1, 2], [3, 4, 5]])
    assert x.tolist() == [[1, 2, SEP, MASK, MASK, PAD, PAD], [3, 4, 5, SEP, MASK, MASK, MASK]]
    assert allowed[0, 0].tolist() == [True] * 5 + [False, False]
    assert allowed[0, 5].tolist() == [True] * 6 + [False]       # a PAD query sees the real keys and itself
    assert allowed[1].all()


def test_a_padded_batch_gives_each_request_its_own_answer():
    model = seeded()
    for steps in (8, 3, 1):
        batched = generate_canvas_batch(model, PROMPTS, steps)
        alone = [generate_diffusion(mdm_logits(model), torch.tensor([p]), min(steps, len(p)))[0].tolist()
                 for p in PROMPTS]
        assert len({t for a in alone for t in a}) > 1
        assert batched == alone


def test_a_batch_that_lets_queries_see_padding_differs():
    """Mutation: without the key mask, PAD tokens leak into the real rows and answers change."""
    model = seeded()
    import serving
    real = serving.pad_canvases

    def leaky(prompts):
        x, allowed = real(prompts)
        return x, torch.ones_like(allowed)
    serving.pad_canvases = leaky
    try:
        leaked = generate_canvas_batch(model, PROMPTS, 8)
    finally:
        serving.pad_canvases = real
    assert leaked != generate_canvas_batch(model, PROMPTS, 8)


def test_positions_per_token_match_the_counted_positions():
    model = seeded()
    total = [0]

    def counted(idx, *a, **k):
        total[0] += idx.numel()
        return model(idx, *a, **k)
    for n in (4, 8):
        p = torch.randint(0, 10, (1, n), generator=torch.Generator().manual_seed(n))
        total[0] = 0
        generate_ar(counted, p)
        assert total[0] / n == positions_per_token_ar(n) == 2.0
        for steps in (1, 2, n):
            total[0] = 0
            generate_diffusion(mdm_logits(counted), p, steps)
            assert total[0] / n == positions_per_token_canvas(n, steps)
    assert positions_per_token_canvas(8, 8) == 17.0 and positions_per_token_canvas(8, 2) == 4.25
