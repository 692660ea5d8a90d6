"""run.py: the worker process gives the same tokens as the in-process worker; bad flags are one line."""
import subprocess
import sys

import pytest


def test_run_worker_process_equals_in_process(model_dir, capsys):
    import run
    assert run.main(["--model", str(model_dir), "--num-prompts", "2", "--max-tokens", "3"]) == 0
    assert "SchedulerOutput bytes" in capsys.readouterr().out


@pytest.mark.parametrize("script,flag", [("run.py", "--num-workers")])
def test_bad_flag_is_one_clear_line(script, flag):
    result = subprocess.run([sys.executable, script, flag, "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_server_bad_flag_is_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, "api_server.py", "--model", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "no config.json" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "api_server.py", "--num-workers", "2"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "exactly one worker" in result.stderr
