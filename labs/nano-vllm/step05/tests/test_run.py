"""run.py answers bad flags with one line on stderr and a non-zero exit, never a traceback."""
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "run.py", *args], capture_output=True, text=True, timeout=120)


def test_bad_flag_value_is_one_clear_line():
    result = run("--max-tokens", "0")
    assert result.returncode == 2
    assert "must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_missing_model_folder_is_one_clear_line(tmp_path):
    result = run("--model", str(tmp_path / "nowhere"), "--num-prompts", "1", "--max-tokens", "1")
    assert result.returncode != 0
    assert "cannot load" in result.stderr and "Traceback" not in result.stderr
