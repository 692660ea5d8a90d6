"""run.py's command line: bad input gets one clear error line and a non-zero exit; a tiny run works."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["--steps", "0"], ["--lr", "nan"], ["--n-embd", "30", "--n-head", "4"]])
def test_bad_arguments_fail_cleanly(args):
    proc = subprocess.run([sys.executable, "run.py", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_a_tiny_run_prints_losses_and_a_sample():
    proc = subprocess.run([sys.executable, "run.py", "--steps", "3", "--batch-size", "2", "--new-tokens", "3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "val loss after 3 steps" in proc.stdout and "sample:" in proc.stdout
