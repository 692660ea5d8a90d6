"""run.py end to end on tiny settings, and bad input as one clear line with a non-zero exit."""
import re
import sys

import pytest


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--batch-size", "x")])
def test_bad_flag_value_is_one_line_error(flag, value, monkeypatch, capsys):
    import run as script
    monkeypatch.setattr(sys, "argv", ["run.py", flag, value])
    with pytest.raises(SystemExit) as exit_:
        script.main()
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("run.py: error:") and flag in last


def test_tiny_run_prints_memory_time_and_losses(monkeypatch, capsys):
    import run as script  # in this process: a second start of torch would cost seconds
    monkeypatch.setattr(sys, "argv", ["run.py", "--steps", "2", "--batch-size", "2", "--repeat", "1"])
    script.main()
    out = capsys.readouterr().out
    assert "model: 32,928 parameters; batch 2 x 32 tokens" in out
    assert re.search(r"params\s+131,712\s+4\.00", out) and re.search(r"grads\s+131,712\s+4\.00", out)
    for phase in ("forward", "backward", "optimizer"):
        assert re.search(rf"{phase}\s+[\d.]+\s+[\d.]+", out)
    assert re.search(r"^\s+1\s+\d\.\d{6}$", out, re.M)
