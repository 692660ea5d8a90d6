"""Registers the `gpu` marker that dlc_shared.testing.gpu puts on the CUDA tests (nothing else)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped with a reason elsewhere")
