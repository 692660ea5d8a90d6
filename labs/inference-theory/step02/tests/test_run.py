"""run.py's command line: bad input gets a clear error and a non-zero exit; counted equals formula."""
import pytest

import run


@pytest.mark.parametrize("args", [["--prompt", "0"], ["--batch", "x"], ["--layers", "9"], ["--max-len", "1"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_tiny_rows_counted_equal_formula():
    rows = run.tiny_rows(prompt=5, batch=2, layers=1)
    assert [r[0] for r in rows] == ["prefill", "decode"]
    for r in rows:
        assert r[4] == r[5] and r[6] == r[7] and r[8] == r[9]


def test_cache_rows_measured_equal_formula():
    rows = run.cache_rows(layers=1, max_len=6)
    assert len(rows) == 3
    for batch, max_len, dtype, nbytes, formula, diff in rows:
        assert nbytes == formula
        assert diff < (0.05 if dtype == "bfloat16" else 1e-4)  # bf16: a few ulps of logits of size ~1
