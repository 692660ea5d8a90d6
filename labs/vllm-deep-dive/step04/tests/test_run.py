"""run.py and bench.py: a bad flag is one line on stderr, not a traceback."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("script,flag", [("run.py", "--max-tokens"), ("bench.py", "--concurrency")])
def test_bad_flag_is_one_clear_line(script, flag):
    result = subprocess.run([sys.executable, script, flag, "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_server_bad_flag_is_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, "api_server.py", "--model", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "no config.json" in result.stderr and "Traceback" not in result.stderr
