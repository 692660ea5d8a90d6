"""Five collectives on 3 gloo ranks: each result against the float64 value every rank can compute alone,
and the ring formula for the bytes each rank sends."""
import json

import pytest
import torch

from collectives import OPS, bytes_per_rank, expected
from dlc_shared.testing import assert_close
from launch import spawn_ranks

WORLD, SIZES = 3, (36, 1152)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("coll") / "rows.json"
    done = spawn_ranks(["collectives.py", "--sizes", ",".join(map(str, SIZES)), "--repeat", "1", "--out", str(out)],
                       WORLD, timeout=90)
    assert all(d.returncode == 0 for d in done), [d.stderr[-2000:] for d in done]
    return json.loads(out.read_text())["rows"]


def test_every_collective_moves_the_right_values(rows):
    assert {(r["op"], r["numel"]) for r in rows} == {(op, n) for op in OPS for n in SIZES}
    for r in rows:
        # The worst rank's |result - float64 expectation|: fp32 inputs, a sum of at most k terms of size <= k.
        bound = 8 * 2.0**-23 * WORLD * (WORLD + 1) / 2 * WORLD ** 0.5
        assert r["max_abs_err"] <= bound, r


def test_bytes_per_rank_follow_the_ring_formulas(rows):
    for r in rows:
        n = r["numel"] * 4  # float32
        assert r["nbytes"] == n
        k = WORLD
        ring = {"all_reduce": 2 * (k - 1) * n // k, "reduce_scatter": (k - 1) * n // k,
                "all_gather": (k - 1) * n // k, "all_to_all": (k - 1) * n // k, "broadcast": n}[r["op"]]
        assert r["bytes_per_rank"] == ring
    assert bytes_per_rank("all_reduce", 4608, 3) == 6144  # 2 * 2/3 * 4608
    assert bytes_per_rank("all_reduce", 4608, 3) == bytes_per_rank("reduce_scatter", 4608, 3) \
        + bytes_per_rank("all_gather", 4608, 3)  # all-reduce = reduce-scatter + all-gather


def test_the_expectations_are_not_trivial():
    """Different ranks must hold different results where the op says so (or the check above proves little)."""
    a, b = expected("reduce_scatter", 0, 3, 36), expected("reduce_scatter", 1, 3, 36)
    assert a.shape == (12,) and not torch.equal(a, b)
    assert_close(expected("all_reduce", 0, 3, 36).sum(), 6 * torch.arange(36.).sum() / 36, torch.float64, terms=36)


def test_unknown_op_is_refused():
    with pytest.raises(ValueError, match="unknown collective"):
        bytes_per_rank("all_sum", 8, 2)
