"""pmap data parallelism trains exactly like one device."""
import numpy as np
import pytest

from parallel import split_batch


def test_split_batch_rows_and_bad_size():
    x = np.arange(16 * 3).reshape(16, 3)
    parts = split_batch(x, 8)
    assert parts.shape == (8, 2, 3)
    np.testing.assert_array_equal(parts[3], x[6:8])  # device 3 reads rows 6 and 7
    with pytest.raises(ValueError, match="does not split"):
        split_batch(x[:10], 8)
