"""run.py in this process (a fresh interpreter would spend seconds importing jax again)."""
import sys

import pytest

import run


def call(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["run.py", *args])
    run.main()


def test_run_prints_the_table(monkeypatch, capsys):
    call(monkeypatch, "--no-draw", "--notation", "A[I_X, J_Y]", "A[I, J]")
    out = capsys.readouterr().out
    assert "A[I_X, J_Y]" in out and "(2, 8)" in out


@pytest.mark.parametrize("bad", [["--mesh", "4", "4"], ["--notation", "A[I_X, J_X]"], ["--shape", "6", "16"], ["--shape", "0", "16"]])
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(monkeypatch, bad):
    with pytest.raises(SystemExit) as e:
        call(monkeypatch, *bad)
    assert isinstance(e.value.code, str) and e.value.code.startswith("error:") and "\n" not in e.value.code
