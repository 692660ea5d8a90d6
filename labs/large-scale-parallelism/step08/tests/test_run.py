"""run.py: bad input gets one clear error and a non-zero exit; the map prints with our entries found."""
import pytest

from run import main


@pytest.mark.parametrize("args", [["--piece", "-1"], ["--piece", "99"], ["--piece", "x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_the_map_prints(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "MISSING" not in out and "MoEAlltoAllTokenDispatcher" in out and "ring_attention" in out
