"""run.py's command line: bad input gets a clear error line and a non-zero exit, never a traceback."""
import pytest
import torch

import run


@pytest.mark.parametrize("args", [["--shapes", "3x4"], ["--shapes", "0x4x4"], ["--repeat", "0"],
                                  ["--device", "tpu"], ["--stream-mib", "-1"], ["--gemm-n", "x"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's clean exit; any other exception fails the test
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_run_prints_the_table_for_a_tiny_shape(capsys):
    run.main(["--shapes", "4x3x2", "--repeat", "1", "--device", "cpu", "--stream-mib", "4", "--gemm-n", "64"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("4x3x2"))
    assert row.split()[1] == "48"  # 2*4*3*2 FLOPs


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the error is for machines without")
def test_asking_for_cuda_without_a_gpu_fails_cleanly(capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(["--device", "cuda"])
    assert exit_.value.code != 0
    assert "no CUDA GPU" in capsys.readouterr().err
