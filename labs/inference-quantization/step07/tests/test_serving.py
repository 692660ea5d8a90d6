"""The serving table's join and the target checks, on rows made by hand."""
import run


def test_serving_joins_by_format_and_checks_targets():
    quality = [{"format": f, "perplexity": 50 * (1 + c), "change": c, "kv_bytes_per_position": 1}
               for f, c in [("fp32", 0.0), ("int8", 0.004), ("int4", 0.06), ("kv-int8", -0.002)]]
    speed = [{"format": f, "weight_bytes": 1, "tok_s": t, "speedup": t / 10, "bytes_ratio": b,
              "fraction_of_bytes_ratio": t / 10 / b} for f, t, b in [("fp32", 10, 1), ("int8", 16, 4), ("int4", 19, 7)]]
    table, checks = run.serving(quality, speed)
    assert [r["format"] for r in table] == ["fp32", "int8", "int4", "kv-int8"] and "tok_s" not in table[3]
    met = {c["target"]: c["met"] for c in checks}
    assert met == {"int8 weight-only perplexity within 1% of fp32": True,
                   "int4 group-128 perplexity within 5% of fp32": False,   # 6% > 5%
                   "int8 KV cache perplexity within 1% of fp32": True,
                   "int8 weight-only >= 1.5x fp32 tokens/s": True,          # 1.6x
                   "int4 >= 2x fp32 tokens/s": False}                      # 1.9x
