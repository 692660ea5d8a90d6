"""run.py answers bad flags with one line on stderr and a non-zero exit, never a traceback."""
import subprocess
import sys

import pytest
from dlc_shared.testing import cuda_available


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


@pytest.mark.skipif(cuda_available(), reason="this machine has a CUDA GPU, so --device cuda is not an error here")
def test_bench_on_cuda_without_a_gpu_is_one_line():
    import bench
    with pytest.raises(SystemExit) as exit:  # sys.exit(message): the message on stderr, status 1
        bench.main(["--device", "cuda"])
    assert exit.value.code == "error: --device cuda: this machine has no CUDA GPU"


def test_the_throughput_table_uses_the_model_given(model_dir, monkeypatch):
    import types

    import run
    seen = []  # a stand-in bench module records the flags run.py passes on
    monkeypatch.setitem(sys.modules, "bench", types.SimpleNamespace(main=seen.append))
    assert run.main(["--model", str(model_dir), "--num-prompts", "1", "--max-tokens", "2", "--bench-requests", "3",
                     "--device", "cpu"]) == 0
    [argv] = seen
    assert argv[argv.index("--model") + 1] == str(model_dir) and argv[argv.index("--num-requests") + 1] == "3"
