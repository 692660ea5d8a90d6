"""The kernels on a GPU against PyTorch, on fresh random inputs and outputs poisoned with NaN."""
import pytest
import torch

from dlc_shared.testing import gpu


@pytest.fixture(autouse=True)
def poisoned_outputs():
    """Every output the wrappers allocate (torch::empty) starts as NaN, so an element no thread writes fails.

    With deterministic algorithms on, PyTorch fills uninitialized memory from empty/empty_like with NaN
    (torch.utils.deterministic.fill_uninitialized_memory); warn_only keeps cuBLAS in the references usable.
    """
    if not torch.cuda.is_available():
        yield
        return
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert torch.utils.deterministic.fill_uninitialized_memory
        assert torch.empty(257, device="cuda").isnan().all()  # the poison is really there
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


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
