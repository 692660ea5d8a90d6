"""Bad input to run.py: one clear error line and a non-zero exit, never a traceback; the report it prints."""
import pytest
import torch

from dlc_kernels.cuda import nvcc_skip_reason

try:  # run.py and bench.py print with tabulate; a bare CUDA machine may lack it (there only `gpu` tests run)
    import bench
    import run
except ModuleNotFoundError as missing:
    if missing.name != "tabulate":
        raise
    pytest.skip("run.py and bench.py need tabulate, which is not installed here", allow_module_level=True)


@pytest.mark.parametrize("module,args", [(run, ["--rows", "0"]), (run, ["--cols", "x"]), (run, ["--rows", "-3"]),
                                         (bench, ["--n", "7"]), (bench, ["--repeat", "x"]), (bench, ["--gemm-n", "100"])])
def test_bad_arguments_fail_cleanly(module, args, capsys):
    with pytest.raises(SystemExit) as exit_:
        module.main(args)
    assert exit_.value.code != 0
    assert "error:" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU; the error is for machines without")
def test_bench_without_a_gpu_says_so(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main([])
    assert exit_.value.code == 1
    assert "needs a CUDA GPU" in capsys.readouterr().err


@pytest.mark.skipif(nvcc_skip_reason() is not None, reason=str(nvcc_skip_reason()))
def test_run_prints_references_and_the_resource_report(built, capsys, monkeypatch):
    monkeypatch.setattr(run, "compile_check", lambda out_dir: built)  # the session's build: nvcc runs once
    run.main(["--rows", "2", "--cols", "16"])
    out = capsys.readouterr().out
    assert "ptxas report for sm_" in out and "-> a module with add, transpose, matmul, gemv, softmax, softmax_backward, rmsnorm_forward, rmsnorm_backward" in out
    diffs = [float(line.split()[-1]) for line in out.splitlines()[3:10]]
    assert len(diffs) == 7 and max(diffs) < 1e-12  # float64 against float64: rounding only
