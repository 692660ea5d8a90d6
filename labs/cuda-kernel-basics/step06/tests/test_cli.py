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


@pytest.mark.parametrize("module,args", [(run, ["--mib", "0"]), (run, ["--repeat", "0"]), (bench, ["--mib", "7"]),
                                         (bench, ["--repeat", "x"])])
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
def test_run_prints_the_resource_report(capsys):
    run.main(["--mib", "1", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "ptxas report for sm_" in out
    assert "copy of 1 MiB moves 0.002 GB" in out
    report = [line.split() for line in out.splitlines() if line.startswith("copy_kernel")]
    registers, shared, spill = map(int, report[0][1:4])  # the first table: the ptxas report
    assert 0 < registers <= 16 and shared == 0 and spill == 0
