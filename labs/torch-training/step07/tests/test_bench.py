"""bench.py end to end on tiny settings: the table's speedup column is fp32's ms/step over each row's."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("flag, value", [("--steps", "2"), ("--threads", "0")])
def test_bad_flag_value_is_one_line_error(flag, value, monkeypatch, capsys):
    import bench  # in this process: no second start of torch; any other exception fails the test
    monkeypatch.setattr(sys, "argv", ["bench.py", flag, value])
    with pytest.raises(SystemExit) as exit_:
        bench.main()
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: the usage, then one line saying why
    assert last.startswith("bench.py: error:") and flag in last


def test_tiny_bench_prints_each_precision_with_its_speedup():
    args = ["--steps", "3", "--batch-size", "1", "--block-size", "8", "--threads", "1"]  # no --json: no record
    proc = subprocess.run([sys.executable, "bench.py", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "3 steps x 1 x 8 tokens on cpu"
    rows = {line.split()[0]: [float(x) for x in line.split()[1:6]] for line in lines[3:6]}
    assert list(rows) == ["fp32", "bf16", "fp16"]
    base = rows["fp32"][1]
    for first_s, ms, speedup, train_loss, val_loss in rows.values():
        # speedup = fp32's time / this row's; a print-precision bound: the speedup has 3 significant
        # digits (up to 0.5% off), the times 4 (0.05% each)
        assert speedup == pytest.approx(base / ms, rel=5e-3 + 2 * 5e-4)
        assert first_s > 0
        assert 0 < train_loss < 8 and 0 < val_loss < 8  # about ln 2048 = 7.62 after 3 tiny steps
