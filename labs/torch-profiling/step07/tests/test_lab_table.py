"""lab_table.py reads one bench.py record and reuses its numbers; bad records fail cleanly."""
import json
from pathlib import Path

import pytest

import bench
import lab_table

RECORD = Path("results/bench-cpu.json")


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.setattr(bench, "rmsnorm_compiled", bench.rmsnorm_naive)   # bookkeeping under test, not Inductor
    mp.setattr(bench, "compile_model", lambda m: bench.torch.compile(m, fullgraph=True, backend="eager"))
    bench.main(["--rows", "8", "--dim", "64", "--batch", "1", "--heads", "2", "--seq", "16", "--train-batch", "1",
                "--repeat", "2", "--threads", "1", "--json"])
    mp.undo()
    return tmp / "results" / "bench-cpu.json"


def test_table_reuses_the_recorded_numbers(record, tmp_path, capsys):
    rows = lab_table.main(["--results", str(record), "--png", str(tmp_path / "r.png")])
    data = json.loads(record.read_text())
    assert [r[2] for r in rows] == [r["ms"] for r in data["results"]]          # the same figures, not re-measured
    assert {r["op"].split()[0] for r in data["results"]} == {"rmsnorm", "attention", "train"}
    for row, r in zip(rows, data["results"]):
        assert row[6] == 100 * r["GFLOP_s"] / min(data["ceilings"]["peak_GFLOP_s"],
                                                  data["ceilings"]["bandwidth_GB_s"] * r["intensity"])
    assert (tmp_path / "r.png").stat().st_size > 0


def test_fusion_moves_fewer_bytes_for_the_same_flops(record):
    data = json.loads(record.read_text())
    by = {(r["op"].split()[0], r["name"]): r for r in data["results"]}
    for op, before, after in [("rmsnorm", "naive (op by op)", "torch.compile"),
                              ("attention", "manual (op by op)", "SDPA")]:
        assert by[(op, before)]["flops"] == by[(op, after)]["flops"]
        assert by[(op, after)]["intensity"] > by[(op, before)]["intensity"]


@pytest.mark.skipif(not RECORD.exists(), reason="no recorded run yet")
def test_the_recorded_run_has_every_op_of_the_lab():
    data = json.loads(RECORD.read_text())
    assert {r["op"].split()[0] for r in data["results"]} >= {"rmsnorm", "attention", "train"}
    assert all(len(r["samples_s"]) >= 5 for r in data["results"])


def test_bad_records_fail_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for path in (bad, tmp_path / "missing.json"):
        with pytest.raises(SystemExit) as exit_:
            lab_table.main(["--results", str(path), "--no-plot"])
        assert "error:" in str(exit_.value)
