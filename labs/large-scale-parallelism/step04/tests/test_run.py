"""run.py: bad input gets one clear error and a non-zero exit; a small run prints the timelines and losses.

main() is called in this process: a fresh Python that imports torch costs seconds on two busy cores.
"""
import pytest

from run import main


@pytest.mark.parametrize("args", [["--pp", "0"], ["--pp", "17"], ["--microbatches", "x"], ["--steps", "11"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_small_run_prints_the_tables(capsys):
    assert main(["--pp", "2", "--microbatches", "3", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "stage 1 |  ..  F0  B0  F1  B1  F2  B2  .." in out and "largest |gradient difference|" in out
