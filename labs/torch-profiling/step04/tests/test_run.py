"""run.py: the summary it prints comes from the trace it writes; bad flags fail cleanly."""
import json

import pytest

import run


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--seq-len", "200"], ["--top", "x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_run_keeps_the_trace_when_asked(tmp_path, capsys):
    trace = tmp_path / "step.json"
    summary = run.main(["--batch-size", "2", "--seq-len", "16", "--n-layer", "1", "--trace", str(trace), "--top", "3"])
    assert json.loads(trace.read_text())["traceEvents"]
    out = capsys.readouterr().out
    assert len(summary["top_self_cpu"]) == 3 and summary["top_self_cpu"][0]["name"] in out
