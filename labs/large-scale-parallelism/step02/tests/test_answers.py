"""The numbers the README's 풀이 quote, computed with this step's code."""
from costs import ring_bytes_sent, tp_step_collectives
from model import Config


def test_answer_tp_bytes_per_step():
    c = tp_step_collectives(Config(), 4, 2)
    assert c == {("tp", "all_reduce", 8192): 10, ("tp", "all_reduce", 256): 3}
    total = sum(nbytes * n for (_, _, nbytes), n in c.items())
    assert total == 82_688
    assert sum(ring_bytes_sent(kind, nbytes, 2) * n for (_, kind, nbytes), n in c.items()) == 82_688


def test_answer_vocab_parallel_loss():
    tokens, vocab = 8192, 128_256
    assert tokens * vocab * 4 == 4_202_692_608
    assert 3 * tokens * 4 == 98_304
    assert round(4_202_692_608 / 98_304, -1) == 42_750
