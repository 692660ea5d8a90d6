import gzip
import json

import jax
import jax.numpy as jnp
import pytest

from tracing import capture, load_events, summarize


def test_summary_of_a_written_trace_file(tmp_path):
    events = [{"ph": "M", "name": "thread_name", "args": {"name": "python"}},
              {"ph": "X", "name": "step", "ts": 0, "dur": 50.0},
              {"ph": "X", "name": "dot.1", "ts": 1, "dur": 10.0, "args": {"hlo_module": "jit_f", "hlo_op": "dot.1"}},
              {"ph": "X", "name": "dot.1", "ts": 20, "dur": 12.0, "args": {"hlo_module": "jit_f", "hlo_op": "dot.1"}},
              {"ph": "X", "name": "dot.2", "ts": 40, "dur": 1.0, "args": {"hlo_module": "jit_f", "hlo_op": "dot.2"}},
              {"ph": "X", "name": "add_fusion", "ts": 45, "dur": 3.0, "args": {"hlo_module": "jit_f", "hlo_op": "add_fusion"}}]
    path = tmp_path / "host.trace.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump({"traceEvents": events}, f)
    assert len(load_events(path)) == 5  # the metadata event is not a complete event
    s = summarize(path, top=2)
    assert s["ops"] == [("jit_f", "dot.1", 2, 22.0), ("jit_f", "add_fusion", 1, 3.0)]
    assert s["kinds"] == [("dot", 3, 23.0), ("add_fusion", 1, 3.0)]
    assert s["op_us"] == 26.0
    assert s["annotations"] == {"step": 1}


def test_a_real_trace_holds_every_op_once_per_call(tmp_path):
    def mlp(x, w):
        return jnp.tanh(x @ w) @ w.T

    f = jax.jit(mlp)
    x, w = jnp.ones((16, 32)), jnp.ones((32, 8)) / 32
    compiled = f.lower(x, w).compile()
    jax.block_until_ready(compiled(x, w))  # awaited: no earlier run can leak into the trace
    path = capture(compiled, (x, w), 3, tmp_path)
    assert path.name.endswith(".trace.json.gz") and tmp_path in path.parents
    s = summarize(path, top=100)
    assert s["annotations"]["step"] == 3  # our named steps
    assert s["ops"], "no XLA op events in the trace"
    hlo = compiled.as_text()
    for module, op, calls, us in s["ops"]:
        assert module == "jit_mlp"
        assert calls == 3, op  # every op of the program ran once per call
        assert op in hlo  # and it is an instruction of the compiled program
        assert us >= 0


def test_capture_without_a_trace_file_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(jax.profiler, "trace", lambda logdir: __import__("contextlib").nullcontext())
    with pytest.raises(FileNotFoundError):
        capture(lambda: None, (), 1, tmp_path)
