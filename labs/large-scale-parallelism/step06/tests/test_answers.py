"""The numbers the README's 풀이 quote, computed with this step's code."""
from model import Config, LanguageModel, MoE, batch, capacity


def test_answer_capacity_and_buffer():
    cfg = Config(n_expert=8, top_k=2, capacity_factor=1.0)
    assert capacity(32, cfg) == 8 and 8 * 8 * 32 * 4 == 8192 and 8192 * 3 // 4 == 6144
    assert capacity(32, Config(n_expert=8, top_k=2, capacity_factor=1.25)) == 10 and 8 * 10 * 32 * 4 == 10_240


def test_answer_dropped():
    cfg = Config(n_expert=8, top_k=2, capacity_factor=1.0, moe_groups=(4, 1))
    model = LanguageModel(cfg)
    model(*batch(cfg, 8))
    dropped = sum(m.dropped[0] for m in model.modules() if isinstance(m, MoE))
    assert dropped == 101
    assert 4 * 32 * 2 * 2 == 512 and round(101 / 512 * 100, 1) == 19.7
