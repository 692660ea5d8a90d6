"""run.py without vLLM (the vLLM half runs in tests/test_vllm.py); bad arguments are one line."""
import subprocess
import sys


def test_run_map_and_our_server(model_dir, capsys):
    import run
    assert run.main(["--model", str(model_dir), "--no-vllm"]) == 0
    out = capsys.readouterr().out
    assert "vllm.v1.engine.core.EngineCore" in out and "MISSING" not in out


def test_bad_flag_is_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, "bench.py", "--concurrency", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "run.py", "--model", str(tmp_path), "--no-vllm"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and "no config.json" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "api_server.py", "--num-workers", "2"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "exactly one worker" in result.stderr


def test_trace_bad_flag_is_one_clear_line():
    result = subprocess.run([sys.executable, "trace_request.py", "--max-tokens", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "must be at least 1" in result.stderr and "Traceback" not in result.stderr
