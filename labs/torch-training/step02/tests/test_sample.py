"""Sampling: greedy is the argmax chain; temperature sampling follows softmax(logits / T)."""
import torch

from model import Llama, ModelConfig
from sample import sample


def varied_model() -> Llama:
    torch.manual_seed(0)
    model = Llama(ModelConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_kv_head=1,
                              d_model=16, d_ff=24))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.5)  # large enough that the next-token distribution is far from uniform
    return model


def test_greedy_follows_the_argmax_and_crops_to_block_size():
    model = varied_model()
    out = sample(model, torch.tensor([[1, 2]]), max_new_tokens=10, temperature=0)
    assert out.shape == (1, 12)
    assert len(set(out[0].tolist())) > 2
    with torch.no_grad():
        for t in range(2, 12):
            context = out[:, max(0, t - 8):t]
            assert out[0, t] == model(context)[0, -1].argmax()


def test_temperature_sampling_matches_softmax_frequencies():
    model = varied_model()
    prompt = torch.tensor([[3, 4, 5]])
    temperature = 0.7
    with torch.no_grad():
        probs = torch.softmax(model(prompt)[0, -1] / temperature, -1)
    g = torch.Generator().manual_seed(0)
    n = 4000
    draws = sample(model, prompt.repeat(n, 1), max_new_tokens=1, temperature=temperature, generator=g)[:, -1]
    freq = torch.bincount(draws, minlength=11).double() / n
    assert probs.max() > 0.2  # a peaked distribution, so the check is not trivially uniform
    assert (freq - probs.double()).abs().max() < 4 * (0.25 / n) ** 0.5  # four standard errors


def test_top_k_never_draws_outside_the_k_best():
    model = varied_model()
    prompt = torch.tensor([[3, 4, 5]])
    with torch.no_grad():
        best = set(torch.topk(model(prompt)[0, -1], 3).indices.tolist())
    draws = sample(model, prompt.repeat(500, 1), 1, temperature=2.0, top_k=3,
                   generator=torch.Generator().manual_seed(1))[:, -1]
    assert set(draws.tolist()) == best
