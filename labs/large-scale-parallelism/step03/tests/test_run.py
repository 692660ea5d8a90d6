"""run.py: bad input gets one clear error and a non-zero exit; a small run prints equal losses.

main() is called in this process: a fresh Python that imports torch costs seconds on two busy cores.
"""
import pytest

from run import main


@pytest.mark.parametrize("args", [["--tp", "0"], ["--tp", "3"], ["--dp", "3"], ["--steps", "x"], ["--dropout", "1"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_small_run_prints_the_tables(capsys):
    assert main(["--dp", "1", "--tp", "2", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "largest |gradient difference|" in out and "ring bytes sent" in out and "saved by SP" in out
