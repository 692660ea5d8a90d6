"""The trace is valid Chrome-trace JSON with the training step's ops, and the summary is read from it."""
import json
import math

import pytest
import torch

from model import Config, LanguageModel
from profiling import memory_timeline, profile_training, self_times_us, summarize_trace
from train import make_batch, make_optimizer


def test_self_time_subtracts_direct_children_only():
    # outer [0, 100) holds a [10, 40) which holds b [15, 25); c [50, 60) runs on another thread.
    ev = [{"ph": "X", "cat": "cpu_op", "name": n, "pid": 1, "tid": t, "ts": ts, "dur": d}
          for n, t, ts, d in [("outer", 1, 0, 100), ("a", 1, 10, 30), ("b", 1, 15, 10), ("c", 2, 50, 10),
                              ("b", 1, 60, 5)]]
    table = self_times_us(ev)
    assert table["outer"]["self_us"] == 100 - 30 - 5      # a and the second b are its direct children
    assert table["a"]["self_us"] == 30 - 10
    assert table["b"] == {"calls": 2, "self_us": 15, "total_us": 15}
    assert table["c"]["self_us"] == 10                     # another thread: not a child of outer


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    torch.manual_seed(0)
    cfg = Config(n_layer=1)
    model = LanguageModel(cfg)
    x, y = make_batch(cfg.vocab_size, 2, 32)
    path = tmp_path_factory.mktemp("trace") / "trace.json"
    prof = profile_training(model, make_optimizer(model), x, y, path)
    return prof, path


def test_trace_is_json_with_the_training_step_ops(profiled):
    _, path = profiled
    doc = json.loads(path.read_text())                     # valid JSON, or this raises
    names = {e["name"] for e in doc["traceEvents"] if e.get("cat") == "cpu_op"}
    sdpa = "aten::_scaled_dot_product_flash_attention_for_cpu"   # the model's attention is SDPA now
    forward = {"aten::embedding", "aten::mm", sdpa, "aten::_log_softmax", "aten::silu"}
    backward = {sdpa + "_backward", "aten::embedding_dense_backward"}
    assert forward <= names and backward <= names, (forward | backward) - names
    assert "aten::_softmax" not in names                         # no (B, H, T, T) softmax op by op
    assert any(n.startswith("aten::_foreach_") for n in names)   # the AdamW update (foreach=True)
    assert any(e.get("name") == "train_step" for e in doc["traceEvents"])


def test_summary_self_times_agree_with_the_profiler_table(profiled):
    prof, path = profiled
    summary = summarize_trace(path, top=5)
    averages = {e.key: e for e in prof.key_averages()}
    for row in summary["top_self_cpu"]:
        # The same events, summed by torch in its own table: equal up to float summation order.
        assert math.isclose(row["self_us"], averages[row["name"]].self_cpu_time_total, rel_tol=1e-9, abs_tol=1e-6)
    ranked = [r["self_us"] for r in summary["top_self_cpu"]]
    assert ranked == sorted(ranked, reverse=True)


def test_memory_peak_is_the_largest_running_total_in_the_trace(profiled):
    _, path = profiled
    doc = json.loads(path.read_text())
    totals = [e["args"]["Total Allocated"] for e in doc["traceEvents"]
              if e.get("name") == "[memory]" and e["args"]["Device Type"] == 0]
    summary = summarize_trace(path)
    assert summary["memory_peak_bytes"] == max(totals) and summary["memory_events"] == len(totals)
    # The saved activations alone exceed one layer's attention weights (B, H, T, T) in float32.
    assert summary["memory_peak_bytes"] > 2 * 4 * 32 * 32 * 4
    timeline = memory_timeline(doc["traceEvents"])
    assert [t for t, _ in timeline] == sorted(t for t, _ in timeline)
