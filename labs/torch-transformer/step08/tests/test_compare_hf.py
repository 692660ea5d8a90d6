"""compare_hf.py's command line: bad input gets one clear error line; a run prints the comparison."""
import subprocess
import sys

import pytest
import torch

from dlc_shared.testing import tolerance


@pytest.mark.parametrize("args", [["--model", "gpt2"], ["--new-tokens", "59"]])
def test_bad_arguments_fail_cleanly(args):
    proc = subprocess.run([sys.executable, "compare_hf.py", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_prints_matching_outputs():
    proc = subprocess.run([sys.executable, "compare_hf.py", "--model", "qwen3", "--new-tokens", "8"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "layers.0.attention.q_norm.weight" in proc.stdout
    row = [line for line in proc.stdout.splitlines() if line.startswith("qwen3")][0].split()
    # columns: model, params, head_dim, qk_norm, max |logits diff|, max |logits|, identical, distinct tokens, tokens...
    assert row[3] == "True" and row[6] == "True" and int(row[7]) > 1
    # fp32 rounding bound of the tiny model's logits: the MLP's 160-wide reduction, 2 layers of 6 matmul stages + head.
    assert float(row[4]) <= tolerance(torch.float32, float(row[5]), terms=160, depth=6 * 2 + 1)
