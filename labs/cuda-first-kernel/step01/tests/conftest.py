"""Compile the step's program once per test session (nvcc takes seconds); skip with a reason without nvcc."""
import pytest

from dlc_kernels.cuda import nvcc_skip_reason


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    if reason := nvcc_skip_reason():
        pytest.skip(reason)
    from program import build
    return build(tmp_path_factory.mktemp("build"))
