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
