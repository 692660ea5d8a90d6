"""bench.py: clean errors on bad input, and the JSON record it writes."""
import json

import pytest

import bench


@pytest.mark.parametrize("args", [["--sizes-mib", "0"], ["--gemm", "64,x"], ["--repeat", "0"], ["--device", "tpu"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_json_records_hardware_samples_and_medians(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # write_result writes results/ under the working directory
    bench.main(["--device", "cpu", "--sizes-mib", "1", "--gemm", "32", "--repeat", "3", "--json"])
    record = json.loads((tmp_path / "results" / "ceilings-cpu.json").read_text())
    assert record["hardware"]["cpu"] and record["versions"]["torch"]
    assert [r["probe"] for r in record["results"]] == ["copy  a = b", "triad a = b + s*c", "GEMM 32^3 float32"]
    for r in record["results"]:
        assert len(r["samples_s"]) == 3 and 0 < r["median"] <= r["best"]
