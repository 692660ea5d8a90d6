"""Bad input to the program and to run.py: one clear line and a non-zero exit, never a crash."""
import pytest

from program import run_program

try:  # run.py prints with tabulate; a bare CUDA machine may lack it (there only `gpu` tests run)
    import run
except ModuleNotFoundError as missing:
    if missing.name != "tabulate":
        raise
    pytest.skip("run.py needs tabulate, which is not installed here", allow_module_level=True)


@pytest.mark.parametrize("args", [[], ["0", "a", "b", "c"], ["x", "a", "b", "c"], ["3", "/nonexistent", "b", "c"],
                                  ["3", "a", "b", "c", "0"], ["3", "a", "b", "c", "1", "extra"]])
def test_program_rejects_bad_arguments(built, args):
    proc = run_program(built.output, *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.strip()


@pytest.mark.parametrize("args", [["--n", "0"], ["--n", "x"], ["--seed", "y"], ["--block", "0"],
                                  ["--block", "1025"], ["--shapes", "3x4x5x6"], ["--shapes", "0x4"]])
def test_run_rejects_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err
