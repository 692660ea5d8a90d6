"""Compile ops.cu once per test session (nvcc takes seconds); skip with a reason without nvcc."""
import pytest

from dlc_kernels.cuda import nvcc_skip_reason


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    if reason := nvcc_skip_reason():
        pytest.skip(reason)
    from ext import compile_check
    return compile_check(tmp_path_factory.mktemp("build"))
