"""Bad command-line input gets one clear line on stderr and a non-zero exit, not a traceback."""
import subprocess
import sys


def test_bad_flag_value_is_one_line_error():
    proc = subprocess.run([sys.executable, "run.py", "--steps", "0"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "--steps" in proc.stderr
