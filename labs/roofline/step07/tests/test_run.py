"""run.py's command line: bad input gets a clear error line and a non-zero exit, never a traceback."""
import json
import statistics

import pytest
import torch

import run
from dlc_shared.testing import assert_close
from intensity import standard_ops


@pytest.mark.parametrize("args", [["--shapes", "3x4"], ["--shapes", "0x4x4"], ["--repeat", "0"],
                                  ["--device", "tpu"], ["--stream-mib", "-1"], ["--gemm-n", "x"],
                                  ["--rows", "0"], ["--cols", "1.5"], ["--plot", "roofline.jpg"], ["--tile-n", "0"],
                                  ["--prompt", "-5"], ["--context", "many"],
                                  ["--plot-decode", "decode"]])
def test_bad_arguments_fail_cleanly(args, capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's clean exit; any other exception fails the test
        run.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


def test_run_prints_the_table_for_a_tiny_shape(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --json writes results/ under the working directory
    run.main(["--shapes", "4x3x2", "--repeat", "1", "--device", "cpu", "--stream-mib", "4", "--gemm-n", "64",
              "--rows", "64", "--cols", "32", "--plot", str(tmp_path / "roofline.png"), "--tile-n", "64",
              "--plot-decode", str(tmp_path / "decode.png"), "--json"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("4x3x2"))
    assert row.split()[1] == "48"  # 2*4*3*2 FLOPs
    assert f"wrote {tmp_path / 'roofline.png'}" in out and (tmp_path / "roofline.png").is_file()
    record = json.loads((tmp_path / "results" / "run-cpu.json").read_text())
    assert record["hardware"]["cpu"] and record["versions"]["torch"]
    ops = standard_ops(64, 32, 64)
    assert [(r["op"], r["flops"], r["bytes"]) for r in record["roofline"]] == [(o.name, o.flops, o.bytes) for o in ops]
    for r in record["roofline"]:  # the rate is the counted FLOPs over the median of the recorded samples
        assert_close(r["measured_gflops"], r["flops"] / statistics.median(r["samples_s"]) / 1e9, "float64", depth=2)
    assert [r["tokens"] for r in record["decode_sweep"]] == [1, 4, 16, 64, 256]
    for r in record["decode_sweep"]:
        assert_close(r["measured_gflops"], r["flops"] / statistics.median(r["samples_s"]) / 1e9, "float64", depth=2)
    assert f"wrote {tmp_path / 'decode.png'}" in out and (tmp_path / "decode.png").is_file()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the error is for machines without")
def test_asking_for_cuda_without_a_gpu_fails_cleanly(capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(["--device", "cuda"])
    assert exit_.value.code != 0
    assert "no CUDA GPU" in capsys.readouterr().err
