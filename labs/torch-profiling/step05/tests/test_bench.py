"""bench.py measures every variant side by side and records what it measured."""
import json

import pytest

import bench


def test_bench_records_the_variants(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # write_result writes results/ under the working directory
    # The bookkeeping is under test here; compiling (seconds) is tested in test_rmsnorm.py.
    monkeypatch.setattr(bench, "rmsnorm_compiled", bench.rmsnorm_naive)
    rows = bench.main(["--rows", "8", "--dim", "64", "--batch", "1", "--heads", "2", "--seq", "16", "--repeat", "2", "--threads", "1", "--json"])
    record = json.loads((tmp_path / "results" / "bench-cpu.json").read_text())
    assert [r["name"] for r in record["results"]] == ["naive (op by op)", "torch.compile",
                                                      "manual (op by op)", "SDPA"]
    for r in record["results"]:
        assert len(r["samples_s"]) == 2 and r["ms"] > 0
        assert r["roofline_GFLOP_s"] <= record["ceilings"]["peak_GFLOP_s"]
    assert rows[0]["speedup"] == 1.0 and rows[2]["speedup"] == 1.0   # each op against its own naive variant


@pytest.mark.parametrize("args", [["--rows", "0"], ["--device", "tpu"], ["--ops", "layernorm"], ["--repeat", "x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(args)
    assert exit_.value.code != 0 and "error:" in capsys.readouterr().err
