"""The collectives' ring formulas and expected values, without processes (step 3 runs them on 3 gloo ranks;
this step's own multi-process test exercises the same calls inside training)."""
import pytest
import torch

from collectives import bytes_per_rank, expected
from dlc_shared.testing import assert_close


def test_ring_formulas():
    assert bytes_per_rank("all_reduce", 4608, 3) == 6144  # 2 * 2/3 * 4608
    assert bytes_per_rank("all_reduce", 4608, 3) == bytes_per_rank("reduce_scatter", 4608, 3) \
        + bytes_per_rank("all_gather", 4608, 3)  # all-reduce = reduce-scatter + all-gather
    assert bytes_per_rank("broadcast", 4608, 3) == 4608 and bytes_per_rank("all_to_all", 4608, 3) == 3072


def test_the_expectations_are_not_trivial():
    """Different ranks must hold different results where the op says so (or the check above proves little)."""
    a, b = expected("reduce_scatter", 0, 3, 36), expected("reduce_scatter", 1, 3, 36)
    assert a.shape == (12,) and not torch.equal(a, b)
    assert_close(expected("all_reduce", 0, 3, 36).sum(), 6 * torch.arange(36.).sum() / 36, torch.float64, terms=36)


def test_unknown_op_is_refused():
    with pytest.raises(ValueError, match="unknown collective"):
        bytes_per_rank("all_sum", 8, 2)
