"""run.py's bad input as one clear line (in this process: no second start of torch)."""
import pytest

import run as script


@pytest.mark.parametrize("args", [["--steps", "0"], ["--steps", "two"], ["--bogus"]])
def test_bad_input_is_one_line_error(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(args)
    assert exit_.value.code != 0
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse: the usage, then one line saying why
    assert "error:" in last and "Traceback" not in last


@pytest.mark.parametrize("args", [["--nproc", "0"], ["--nproc", "3"]])
def test_bad_world_size_is_one_line_error(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(args)
    assert exit_.value.code != 0
    assert "--nproc must be in 1..8 and divide --batch-size 8" in capsys.readouterr().err.strip().splitlines()[-1]


def test_collectives_outside_torchrun_is_one_line_error(capsys, monkeypatch):
    import collectives
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr("sys.argv", ["collectives.py"])
    with pytest.raises(SystemExit) as exit_:
        collectives.main()
    assert exit_.value.code == 2
    assert "run it under torchrun" in capsys.readouterr().err.strip().splitlines()[-1]
