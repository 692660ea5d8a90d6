"""run.py in this process (a fresh interpreter would spend seconds importing jax again)."""
import sys

import pytest

import run
from mesh import make_mesh


def call(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["run.py", *args])
    run.main()


def args_for(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["run.py", *args])
    return run.parse_args()


@pytest.fixture(scope="module")
def mesh():
    return make_mesh()


def test_run_prints_the_table(monkeypatch, capsys, mesh):
    run.report_notation(args_for(monkeypatch, "--no-draw", "--notation", "A[I_X, J_Y]", "A[I, J]"), mesh)
    out = capsys.readouterr().out
    assert "A[I_X, J_Y]" in out and "(2, 8)" in out


def test_run_prints_the_all_gather(monkeypatch, capsys, mesh):
    run.report_all_gather(args_for(monkeypatch), mesh)
    out = capsys.readouterr().out
    assert out.count("all-gather") == 4 and "448" in out


def test_run_prints_the_reductions(monkeypatch, capsys, mesh):
    run.report_reductions(args_for(monkeypatch), mesh)
    out = capsys.readouterr().out
    assert out.count("reduce-scatter") == 4 and out.count("all-reduce") == 2 and "896" in out


def test_run_prints_the_all_to_all(monkeypatch, capsys, mesh):
    run.report_all_to_all(args_for(monkeypatch), mesh)
    out = capsys.readouterr().out
    assert out.count("all-to-all") == 4 and "A[I, J_XY]" in out


def test_run_prints_the_matmul(monkeypatch, capsys):
    call(monkeypatch)
    out = capsys.readouterr().out
    assert "reduce-scatter(4) 1152  all-reduce(4) 2304" in out and "all-gather(4) 1536" in out


@pytest.mark.parametrize("bad", [["--mesh", "4", "4"], ["--notation", "A[I_X, J_X]"], ["--shape", "6", "16"], ["--shape", "0", "16"], ["--ijk", "16", "30", "24"]])
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(monkeypatch, bad):
    with pytest.raises(SystemExit) as e:
        call(monkeypatch, *bad)
    assert isinstance(e.value.code, str) and e.value.code.startswith("error:") and "\n" not in e.value.code
