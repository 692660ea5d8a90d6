"""run.py: the default run prints a trace; a bad flag gives one line on stderr and exit status 2."""
import pytest

import run


def test_default_run_prints_a_trace(capsys):
    run.main([])
    out = capsys.readouterr().out
    assert "tensor" in out and "FLOPs" in out and "total" in out


def test_bad_flag_is_one_clear_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--seq", "64", "--max-seq", "32"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--seq" in err.strip().splitlines()[-1]
