"""The numbers the README's 풀이 quote, computed with this step's code (and its results/)."""
import json
from pathlib import Path

from traffic import transpose_bytes

H100 = json.loads((Path(__file__).parent.parent / "results" / "h100-anchor.json").read_text())["values"]


def test_answer_8192_transpose_bytes():
    nbytes = transpose_bytes(8192, 8192)
    assert nbytes == 536_870_912 == 512 * 2**20
    assert f"{nbytes / (H100['device_copy_1GiB_fp32_TB_per_s'] * 1e12) * 1e6:.0f}" == "181"  # µs
