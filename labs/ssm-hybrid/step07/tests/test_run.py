"""run.py: bad input gets one clear error and a non-zero exit; every measured row equals its formula."""
import pytest

import run
from recurrence import Shape


@pytest.mark.parametrize("args", [["--d-model", "48"], ["--layers", "0"], ["--max-length", "x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_rows_measured_equal_formula():
    for r in run.rows(Shape(d_model=16, n_layers=1), [1, 3, 40]):
        assert r[1] == r[2] and r[3] == r[4]


def test_selection_demo_forgets_at_the_reset():
    rows = run.selection_demo(T=8, reset_at=4)
    assert all(r[2] > 0 for r in rows[:4]) and all(r[2] == 0 for r in rows[4:])


def test_discretization_gap_shrinks_with_delta():
    gaps = [r[4] for r in run.discretization_rows([0.001, 0.01, 0.1])]
    assert gaps[0] < gaps[1] < gaps[2]


def test_scan_rows_count_rounds_and_combines():
    rows = run.scan_rows([8, 100])
    assert [r[2] for r in rows] == [3, 7]
    assert rows[0][4] == 7 + 6 + 4 and rows[1][3] == 99


def test_mamba_rows_agree_with_transformers():
    rows, ours, theirs = run.mamba_rows(T=10)
    assert ours == theirs and len(set(ours)) > 3
    assert all(r[2] < 1e-3 * r[1] for r in rows)


def test_decode_rows_constant_state_growing_cache():
    rows = run.decode_rows([1, 5, 64])
    assert all(r[1] == r[2] == rows[0][1] for r in rows)
    assert all(r[3] == r[4] for r in rows) and rows[2][3] == 64 * rows[0][3]


def test_hybrid_rows():
    rows, same = run.hybrid_rows([1, 100])
    assert same
    assert rows[0][1] == rows[1][1] and rows[1][2] == 100 * rows[0][2] and rows[1][4] == 2 * rows[1][2]


def test_serving_rows():
    summary, rows = run.serving_rows()
    assert summary["equal to the plain forward"] and summary["free slots after"] == 3
    assert [r[0] for r in rows] == list(range(5, 17))
    assert all(r[1] == rows[0][1] for r in rows) and rows[-1][2] == 4 * rows[0][2] // 2
