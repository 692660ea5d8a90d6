"""run.py's command line: bad input gets a clear error and a non-zero exit; counted equals formula."""
import pytest
from dlc_shared.testing import tolerance

import run


@pytest.mark.parametrize("args", [["--prompt", "0"], ["--batch", "x"], ["--layers", "9"], ["--max-len", "1"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_tiny_rows_counted_equal_formula():
    rows = run.tiny_rows(prompt=5, batch=2, layers=1)
    assert [r[0] for r in rows] == ["prefill", "decode"]
    for r in rows:
        assert r[4] == r[5] and r[6] == r[7] and r[8] == r[9]


def test_cache_rows_measured_equal_formula():
    rows = run.cache_rows(layers=1, max_len=6)
    assert len(rows) == 3
    for batch, max_len, dtype, nbytes, formula, diff in rows:
        assert nbytes == formula
        assert diff < (0.05 if dtype == "bfloat16" else 1e-4)  # bf16: a few ulps of logits of size ~1


def test_gqa_rows_ratio_is_the_head_ratio():
    rows = run.gqa_rows(layers=1, max_len=5)
    assert [r[0] for r in rows] == [4, 2, 1]
    for kv_heads, nbytes, mha_bytes, ratio, diff in rows:
        assert mha_bytes == nbytes * 4 // kv_heads and ratio == 4 / kv_heads
        assert diff < 1e-4  # rounding only: logits of size ~1, fp32


def test_mla_rows_and_cache_per_token():
    [[positions, nbytes, formula, scale, diff]] = run.mla_rows(max_len=6)
    assert nbytes == formula == 40 * 6 * 4
    assert diff <= tolerance("float32", scale, terms=64, depth=3)  # rounding only, as in test_mla.py
    rows = run.cache_per_token_rows()
    assert [r[1] for r in rows] == [61 * 128 * 320 * 2, 2 * 61 * 8 * 128 * 2, 61 * 576 * 2]
