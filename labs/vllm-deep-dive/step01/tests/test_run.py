"""run.py: every bad value in its table is rejected; a bad flag is one line, not a traceback."""
import subprocess
import sys


def test_run_rejects_every_bad_value():
    import run
    assert run.main([]) == 0


def test_bad_flag_is_one_clear_line():
    result = subprocess.run([sys.executable, "run.py", "--prompt-len", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr
