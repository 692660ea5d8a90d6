"""Bad input to run.py and bench.py: one clear error line and a non-zero exit, never a traceback."""
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


@pytest.mark.parametrize("module,args", [(run, ["--n", "0"]), (run, ["--d", "x"]), (run, ["--heads", "-3"]),
                                         (bench, ["--n", "7"]), (bench, ["--repeat", "x"]), (bench, ["--d", "100"])])
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
    run.main(["--heads", "1", "--n", "16", "--d", "8"])
    out = capsys.readouterr().out
    assert "ptxas report for sm_" in out and "-> a module with attention_naive, softmax_online, scores_tiled, attention_flash" in out
    diffs = [float(line.split()[-1]) for line in out.splitlines()[3:5]]
    assert len(diffs) == 2 and diffs[0] < 1e-12 and diffs[1] < 1e-5  # float64; float32 twin
