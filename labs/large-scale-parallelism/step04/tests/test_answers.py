"""The numbers the README's 풀이 quote, computed with this step's code."""
from fractions import Fraction

from schedule import afab, bubble, one_f_one_b, peak_in_flight, simulate


def test_answer_bubble_and_micro_batches():
    assert bubble(simulate(one_f_one_b, 4, 8), 4) == (Fraction(3, 11), Fraction(3, 8))
    assert round(float(Fraction(3, 11)) * 100, 1) == 27.3
    need = next(m for m in range(1, 1000) if bubble(simulate(one_f_one_b, 8, m), 8)[0] <= Fraction(5, 100))
    assert need == 133
    assert max(simulate(afab, 4, 8).values()) + 1 == 22


def test_answer_in_flight():
    assert [peak_in_flight(afab(4, 8, s)) for s in range(4)] == [8, 8, 8, 8]
    assert [peak_in_flight(one_f_one_b(4, 8, s)) for s in range(4)] == [4, 3, 2, 1]
