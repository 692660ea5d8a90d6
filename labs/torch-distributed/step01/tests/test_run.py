"""run.py's bad input as one clear line (in this process: no second start of torch)."""
import pytest

import run as script
from train import TrainConfig, build


def test_run_prints_the_bytes_and_the_losses(capsys):
    script.main(["--steps", "2"])
    out = capsys.readouterr().out
    n = build(TrainConfig())[0].num_params()
    assert f"16 x {n:,} = {16 * n:,} bytes" in out
    assert "8 sequences x 32 tokens = 256 loss terms per step" in out
    assert out.count("\n     2  ") == 1  # the table's last row


@pytest.mark.parametrize("args", [["--steps", "0"], ["--steps", "two"], ["--bogus"]])
def test_bad_input_is_one_line_error(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(args)
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: the usage, then one line saying why
    assert "error:" in last and "Traceback" not in last
