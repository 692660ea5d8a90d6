"""run.py: bad input gets one clear error and a non-zero exit; a small run prints the tables.

main() is called in this process: a fresh Python that imports torch costs seconds on two busy cores.
"""
import pytest

from run import main


@pytest.mark.parametrize("args", [["--dp", "0"], ["--dp", "4", "--tp", "4"], ["--pp", "3", "--dp", "1"],
                                  ["--cp", "3", "--dp", "1"], ["--sp"], ["--schedule", "zigzag"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_small_run_prints_the_tables(capsys):
    assert main(["--dp", "1", "--pp", "2", "--tp", "1", "--experts", "0", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "largest |gradient difference|" in out and "formula" in out
