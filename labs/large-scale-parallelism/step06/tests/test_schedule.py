"""The schedules, exactly: hand-written timelines, bubble fractions and in-flight micro-batches against formulas."""
from fractions import Fraction

import pytest

from schedule import afab, bubble, one_f_one_b, peak_in_flight, render, simulate


def test_1f1b_on_two_stages_by_hand():
    # p = 2, m = 3: stage 0 warms up with one forward; stage 1 alternates from the start.
    assert one_f_one_b(2, 3, 0) == [("F", 0), ("F", 1), ("B", 0), ("F", 2), ("B", 1), ("B", 2)]
    assert one_f_one_b(2, 3, 1) == [("F", 0), ("B", 0), ("F", 1), ("B", 1), ("F", 2), ("B", 2)]
    assert render(simulate(one_f_one_b, 2, 3), 2) == (
        "stage 0 |  F0  F1  ..  B0  F2  B1  ..  B2\n"
        "stage 1 |  ..  F0  B0  F1  B1  F2  B2  ..")


def test_afab_on_two_stages_by_hand():
    assert render(simulate(afab, 2, 3), 2) == (
        "stage 0 |  F0  F1  F2  ..  ..  B0  B1  B2\n"
        "stage 1 |  ..  F0  F1  F2  B0  B1  B2  ..")


@pytest.mark.parametrize("p", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("m", [1, 2, 4, 7, 16])
@pytest.mark.parametrize("schedule", [afab, one_f_one_b])
def test_bubble_is_p_minus_1_over_m_plus_p_minus_1(schedule, p, m):
    timeline = simulate(schedule, p, m)
    assert max(timeline.values()) + 1 == 2 * (m + p - 1)           # the step's length in op units
    assert bubble(timeline, p) == (Fraction(p - 1, m + p - 1), Fraction(p - 1, m))


@pytest.mark.parametrize("p,m", [(2, 4), (4, 4), (4, 8), (8, 16)])
def test_1f1b_keeps_at_most_p_minus_stage_micro_batches(p, m):
    for s in range(p):
        assert peak_in_flight(afab(p, m, s)) == m
        assert peak_in_flight(one_f_one_b(p, m, s)) == min(p - s, m)


def test_a_wrong_warmup_changes_the_schedule():
    def off_by_one(p, m, stage):   # one warm-up forward too few: the last stage would backward before its forward
        warmup = min(p - stage - 2, m) if stage < p - 1 else 0
        ops = [("F", i) for i in range(max(warmup, 0))]
        for i in range(m - max(warmup, 0)):
            ops += [("F", max(warmup, 0) + i), ("B", i)]
        return ops + [("B", i) for i in range(m - max(warmup, 0), m)]
    assert bubble(simulate(off_by_one, 4, 8), 4)[0] != Fraction(3, 11)
