"""The kernels on a GPU against PyTorch, on fresh random inputs."""
import pytest
import torch

from dlc_shared.testing import gpu


@gpu
@pytest.mark.parametrize("n", [1, 255, 257, 1_000_003])
def test_add(n):
    from ext import ops
    a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
    assert torch.equal(ops().add(a, b), a + b)  # one rounding per element, the same as torch's


@gpu
def test_the_module_is_built_once():
    from ext import load_kwargs, ops
    assert ops() is ops() and ops().__name__ == load_kwargs()["name"]


@gpu
def test_wrong_input_raises_a_python_error():
    from ext import ops
    a = torch.randn(4, device="cuda")
    with pytest.raises(RuntimeError, match="float32 CUDA tensor"):
        ops().add(a.double(), a.double())
    with pytest.raises(RuntimeError, match="differ in shape"):
        ops().add(a, torch.randn(5, device="cuda"))


@gpu
@pytest.mark.parametrize("version", range(3))
@pytest.mark.parametrize("shape", [(1, 1), (8, 32), (33, 70), (1000, 517)])
def test_transpose(version, shape):
    from ext import ops
    a = torch.randn(shape, device="cuda")
    assert torch.equal(ops().transpose(a, version), a.t())
