"""run.py's command line: bad input gets a clear error line and a non-zero exit, never a traceback."""
import pytest

import run


@pytest.mark.parametrize("args", [["--d-model", "100"], ["--tokens", "0"], ["--formats", "fp32,int3"], ["--windows", "0"], ["--train-steps", "5"], ["--alpha", "1.5"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_run_prints_a_row_per_format(capsys):
    run.main(["--d-model", "256", "--n-layer", "1", "--tokens", "2", "--repeat", "1", "--windows", "2", "--train-steps", "40"])
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if line.split() and line.split()[0] in run.FORMATS]
    speed = [f for f in run.FORMATS if f not in run.QUALITY_ONLY]
    assert rows == list(run.FORMATS) + speed  # the perplexity table, then the speed table
