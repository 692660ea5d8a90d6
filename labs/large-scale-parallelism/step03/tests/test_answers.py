"""The numbers the README's 풀이 quote, computed with this step's code."""
from costs import ring_bytes_sent, sp_step_collectives, tp_step_collectives
from model import Config


def sent(counter, kinds):
    return sum(ring_bytes_sent(kind, nbytes, 2) * n for (_, kind, nbytes), n in counter.items()
               if kind in kinds and nbytes == 8192)


def test_answer_same_traffic():
    cfg = Config()
    assert sent(tp_step_collectives(cfg, 4, 2), {"all_reduce"}) == 81_920
    sp = sp_step_collectives(cfg, 4, 2)
    assert sent(sp, {"all_gather", "reduce_scatter"}) == 20 * 4096 == 81_920
    assert sp[("tp", "all_reduce", 128)] == 5


def test_answer_korthikanti_gpt3():
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h
    assert sbh == 25_165_824 and 5 * a * s / (h * t) == 10
    assert sbh * (10 + 24 / t + 10) == 578_813_952
    assert sbh * (34 / t + 10) == 358_612_992
    assert round(1 - 14.25 / 23, 2) == 0.38
    assert round(96 * 578_813_952 / 1e9, 1) == 55.6 and round(96 * 358_612_992 / 1e9, 1) == 34.4
