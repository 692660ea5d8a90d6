"""run.py: bad input gets one clear error and a non-zero exit; a small grid prints and checks itself.

main() is called in this process: a fresh Python that imports torch costs seconds on two busy cores.
"""
import pytest

from run import main


@pytest.mark.parametrize("args", [["--dp", "0"], ["--tp", "x"], ["--dp", "4", "--tp", "8"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_small_grid_runs(capsys):
    assert main(["--dp", "1", "--pp", "1", "--cp", "2", "--tp", "2"]) == 0
    assert "equals the sum of the group's ranks: True" in capsys.readouterr().out
