"""run.py end to end on tiny settings, and bad input as one clear line with a non-zero exit."""
import re
import sys

import pytest


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--batch-size", "x"), ("--world-size", "3"), ("--bucket-kib", "0")])
def test_bad_flag_value_is_one_line_error(flag, value, monkeypatch, capsys):
    import run as script
    monkeypatch.setattr(sys, "argv", ["run.py", flag, value])
    with pytest.raises(SystemExit) as exit_:
        script.main()
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("run.py: error:") and flag in last


def test_tiny_run_prints_both_runs_side_by_side(monkeypatch, capsys):
    import run as script  # in this process: the ranks are forked from it
    monkeypatch.setattr(sys, "argv", ["run.py", "--steps", "2", "--batch-size", "4", "--world-size", "2"])
    script.main()
    out = capsys.readouterr().out
    assert "global batch 4 sequences; 2 ranks x 2 each" in out
    rows = re.findall(r"^\s+(\d)\s+(\d\.\d{6})\s+(\d\.\d{6})\s+(\S+)\s+(\d\.\d{6})\s+(\S+)$", out, re.M)
    assert [int(r[0]) for r in rows] == [0, 1]
    for _, single, dp, diff, ddp, diff_ddp in rows:  # 6 decimals printed: equal to within the last digit
        assert abs(float(single) - float(dp)) < 1.5e-6 and float(diff) < 1e-5
        assert abs(float(single) - float(ddp)) < 1.5e-6 and float(diff_ddp) < 1e-5
    assert "replicas identical after 2 steps: True" in out
    # the bucket table: six buckets of the 16 KiB default, the embedding's last, when nothing was left
    table = out.split("in the order they started")[1]
    rows = re.findall(r"^\s+(\d)\s+([\d, ]+?)\s+(\d+)\s+(\d+)$", table, re.M)
    assert len(rows) == 6 and rows[-1][1] == "0" and rows[-1][2] == "32768" and rows[-1][3] == "0"
    assert sum(int(r[2]) for r in rows) == 4 * 32_928  # every fp32 gradient in exactly one bucket
