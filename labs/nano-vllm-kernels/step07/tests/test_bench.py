"""bench.py: the preset's workload, the TTFT/TPOT arithmetic, and clear errors for bad flags (no engine runs)."""
import argparse

import pytest

import bench


def test_ttft_and_tpot_from_hand_made_timestamps():
    # Two requests: first tokens at 0.5 s and 1.0 s, done at 2.0 s after 4 and 3 tokens.
    row = bench.summarize("x", 2.0, [0.5, 1.0], [2.0, 2.0], [4, 3])
    assert row["ttft_ms"] == pytest.approx(750.0)  # mean(500, 1000)
    assert row["tpot_ms"] == pytest.approx(1000 * (1.5 / 3 + 1.0 / 2) / 2)  # mean(500, 500) ms per later token
    assert row["throughput"] == pytest.approx(7 / 2.0)


def test_the_preset_fixes_the_request_mix():
    p = bench.PRESETS["cpu-28m"]
    args = argparse.Namespace(seed=0, **{k: p[k] for k in ("num_requests", "min_input", "max_input", "min_output",
                                                            "max_output")})
    requests = bench.make_requests(args, p["model"]["vocab_size"])
    assert len(requests) == 64
    assert all(32 <= len(prompt) <= 128 and 32 <= n <= 128 for prompt, n in requests)
    assert requests == bench.make_requests(args, p["model"]["vocab_size"])  # seeded: the same every run
    # No request needs more than its 16 blocks of 16, so 1024 blocks never preempt anyone.
    assert max(-(-(len(prompt) + n) // 16) for prompt, n in requests) * 64 <= p["num_kv_blocks"]


def test_vllm_is_looked_for_in_the_nox_environment(tmp_path, monkeypatch):
    python = tmp_path / ".nox" / "env-vllm" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert bench.vllm_python(None) == str(python)
    assert bench.vllm_python("/given/python") == "/given/python"


@pytest.mark.parametrize("argv", [["--preset", "cpu-28m", "--model", "x"], ["--preset", "nope"],
                                  ["--repeat", "0"], ["--min-input", "9", "--max-input", "8"]])
def test_bad_flags_are_one_clear_error(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        bench.main(argv)
    assert exit.value.code == 2 and "error:" in capsys.readouterr().err


def test_run_py_rejects_a_bad_flag(capsys):
    import run
    with pytest.raises(SystemExit) as exit:
        run.main(["--max-tokens", "0"])
    assert exit.value.code == 2 and "must be at least 1" in capsys.readouterr().err
