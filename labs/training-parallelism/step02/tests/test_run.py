"""run.py end to end on tiny settings, and bad input as one clear line with a non-zero exit."""
import re
import sys

import pytest


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--batch-size", "x"), ("--world-size", "3")])
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
    rows = re.findall(r"^\s+(\d)\s+(\d\.\d{6})\s+(\d\.\d{6})\s+(\S+)$", out, re.M)
    assert [int(r[0]) for r in rows] == [0, 1]
    for _, single, dp, diff in rows:  # printed to 6 decimals: equal to within the last printed digit
        assert abs(float(single) - float(dp)) < 1.5e-6 and float(diff) < 1e-5
    assert "replicas identical after 2 steps: True" in out
