"""run.py's command line: bad input gets a clear error line and a non-zero exit, never a traceback."""
import pytest

import run


@pytest.mark.parametrize("args", [["--values", "1,abc"], ["--values", ""], ["--bogus"],
                                  ["--sizes", "0"], ["--sizes", "10,x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's clean exit; any other exception fails the test
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_run_prints_layouts_and_decoded_values(capsys):
    run.main(["--values", "1"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("float8_e4m3fn"))
    assert row.split()[1:4] == ["1/4/3", "7", "448"] and row.split()[-1] == "yes"
    assert "0 01111 0000000000" in out  # 1.0 in float16


def test_run_prints_the_stall_table(capsys):
    run.main(["--values", "1", "--sizes", "8"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("bfloat16  1 "))
    assert row.split()[3:] == ["1024", "256", "256"]  # exact sum, naive sum, predicted stall
