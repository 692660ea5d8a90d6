"""Compile the step's programs once per test session (nvcc takes seconds); skip with a reason without nvcc."""
import pytest

from dlc_kernels.cuda import nvcc_skip_reason


@pytest.fixture(scope="session")
def builds(tmp_path_factory):
    if reason := nvcc_skip_reason():
        pytest.skip(reason)
    from program import build_all
    return build_all(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def built(builds):
    return builds["vector_add"]


@pytest.fixture(scope="session")
def built_grid(builds):
    return builds["grid_add"]


@pytest.fixture(scope="session")
def built_warps(builds):
    return builds["warps"]
