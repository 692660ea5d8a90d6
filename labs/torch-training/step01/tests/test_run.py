"""run.py end to end on tiny settings: its printed formula lines against numbers recomputed here,
and bad command-line input as one clear line on stderr with a non-zero exit, not a traceback."""
import math
import re
import subprocess
import sys

import pytest

from model import ModelConfig


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], capture_output=True, text=True, timeout=300)


def number_after(label: str, out: str) -> float:
    match = re.search(re.escape(label) + r"\s+(-?[\d,]+(?:\.\d+)?)", out)
    assert match, f"no '{label}' line in:\n{out}"
    return float(match.group(1).replace(",", ""))


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--threads", "0")])
def test_bad_flag_value_is_one_line_error(flag, value, monkeypatch, capsys):
    import run as script  # in this process: no second start of torch; any other exception fails the test
    monkeypatch.setattr(sys, "argv", ["run.py", flag, value])
    with pytest.raises(SystemExit) as exit_:
        script.main()
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: the usage, then one line saying why
    assert last.startswith("run.py: error:") and flag in last


def test_tiny_run_prints_the_parameter_count_and_the_loss_lines():
    proc = run("--steps", "3", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    cfg = ModelConfig()
    d, kv = cfg.d_model, cfg.n_kv_head * cfg.head_dim
    # Counted by hand: tied V x d embedding, final norm; per layer q, k, v, o, gate, up, down, two norms.
    per_layer = d * d + 2 * d * kv + d * d + 3 * d * cfg.d_ff + 2 * d
    params = cfg.vocab_size * d + d + cfg.n_layer * per_layer
    assert f"model: {params:,} parameters, vocab V = {cfg.vocab_size}, context {cfg.block_size}" in out
    assert number_after("ln V (uniform guess)", out) == round(math.log(cfg.vocab_size), 4)
    ours = number_after("untrained model, next_token_loss", out)
    assert ours == number_after("untrained model, F.cross_entropy", out)  # equal at the 4 printed decimals
    rows = [line.split() for line in out.split("overfitting one fixed batch with SGD")[1].splitlines()]
    losses = {int(r[0]): float(r[1]) for r in rows if len(r) == 3 and r[0].isdigit()}
    assert sorted(losses) == [1, 3]  # the first step and the last one
    assert abs(losses[1] - ours) <= 1e-4  # step 1 is the untrained model on that batch (4 decimals printed)
    assert losses[3] < losses[1]
