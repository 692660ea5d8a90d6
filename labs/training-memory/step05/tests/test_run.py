"""run.py's command line: bad input gets one clear error line and a non-zero exit, never a traceback."""
import subprocess
import sys

import pytest

import run


@pytest.mark.parametrize("args", [["--batch", "0"], ["--sizes", "10"], ["--sizes", "10,x"], ["--nope"],
                                  ["--seq", "0"]])
def test_bad_arguments_fail_cleanly(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["run.py", *args])
    with pytest.raises(SystemExit) as exit_info:
        run.main()
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and len(err.strip().splitlines()[-1]) < 200


def test_run_prints_the_tables_for_a_tiny_mlp():
    proc = subprocess.run([sys.executable, "run.py", "--batch", "2", "--sizes", "3,4,5",
                           "--lm-batch", "1", "--seq", "8", "--layers", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # 2*2*3*4 + 2*2*4*5 = 48 + 80 FLOPs, by the formula and by FlopCounterMode (a bare "128" also matches D=128)
    assert "counted 128 FLOPs (formula 128)" in proc.stdout
    assert all(f"[{section}]" in proc.stdout for section in range(1, 6))
