"""run.py's command line: bad input gets a clear error line and a non-zero exit, never a traceback."""
import pytest

import run


@pytest.mark.parametrize("args", [["--values", "1,abc"], ["--values", ""], ["--bogus"],
                                  ["--sizes", "0"], ["--sizes", "10,x"],
                                  ["--steps", "0"], ["--lr", "0"], ["--lr", "abc"]])
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


def test_run_shows_naive_softmax_failing_and_stable_holding(capsys):
    run.main(["--values", "1", "--sizes", "8"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("float16") and " 12 " in line)
    cells = row.split()
    assert cells[3] == "8" and cells[5] == "0"  # every naive row NaN, no stable row NaN


def test_run_shows_bfloat16_weights_frozen(capsys):
    run.main(["--values", "1", "--sizes", "8", "--steps", "50"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("bfloat16 weights only"))
    assert row.split()[5] == "0"  # max |w - w0|: nothing moved


def test_run_shows_the_overflow_backoff(capsys):
    run.main(["--values", "1", "--sizes", "8", "--steps", "5"])
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("[8]"))
    assert out[start + 3].split() == ["0", "2^32", "skipped"] and out[start + 4].split() == ["1", "2^31"]
