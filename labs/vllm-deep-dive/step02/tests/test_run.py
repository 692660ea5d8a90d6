"""run.py: the trace ends with every request equal to transformers; a bad flag is one line, not a traceback."""
import subprocess
import sys


def test_run_matches_transformers(model_dir, capsys):
    import run
    assert run.main(["--model", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "scheduled_new_reqs" in out and "3/3" in out


def test_bad_flag_is_one_clear_line():
    result = subprocess.run([sys.executable, "run.py", "--max-tokens", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr
