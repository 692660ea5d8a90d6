"""run.py: tokens over ZMQ equal transformers, the killed core is reported; a bad flag is one line."""
import subprocess
import sys


def test_run_matches_transformers_and_survives_the_kill(model_dir, capsys):
    import run
    assert run.main(["--model", str(model_dir), "--num-prompts", "2", "--max-tokens", "4"]) == 0
    out = capsys.readouterr().out
    assert "engine core process died" in out and "NO" not in out


def test_bad_flag_is_one_clear_line():
    result = subprocess.run([sys.executable, "run.py", "--max-tokens", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr
