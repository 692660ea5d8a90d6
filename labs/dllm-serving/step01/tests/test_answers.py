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
