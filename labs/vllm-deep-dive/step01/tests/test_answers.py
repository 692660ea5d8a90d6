"""The numbers in the README's worked answers (풀이), computed with this step's code."""
from fractions import Fraction

import msgspec

import messages as m


def test_answer_request_bytes():
    params = m.SamplingParams(max_tokens=4)
    req = m.EngineCoreRequest("req-0", list(range(3, 11)), params, 1700000000.0)
    assert len(m.encoder().encode(params)) == 23
    assert len(m.encoder().encode(req)) == 1 + 6 + 9 + 23 + 9 == 48
    assert len(msgspec.msgpack.encode(msgspec.structs.asdict(req))) == 105


def test_answer_token_id_bytes():
    vocab = 151936
    sizes = {1: 128, 2: 128, 3: 65280, 5: 86400}
    assert sum(len(msgspec.msgpack.encode(i)) for i in range(vocab)) == sum(k * v for k, v in sizes.items()) == 628224
    assert round(float(Fraction(628224, vocab)), 2) == 4.13
    assert len(msgspec.msgpack.encode(list(range(vocab - 1000, vocab)))) == 3 + 5 * 1000  # the big ids: 5 B each


def test_answer_deltas_versus_totals():
    assert sum(range(1, 1001)) == 500500
