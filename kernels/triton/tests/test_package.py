"""dlc_kernels.triton is importable, and inside it `import triton` is the Triton package, not itself."""
import importlib

import triton

import dlc_kernels.triton as kernels


def test_public_functions():
    assert set(kernels.__all__) == {"rmsnorm", "softmax", "flash_attention"}
    assert all(callable(getattr(kernels, name)) for name in kernels.__all__)


def test_import_triton_inside_the_package_is_the_real_triton():
    for name in ("rmsnorm", "softmax", "flash_attention"):
        module = importlib.import_module(f"dlc_kernels.triton.{name}")
        assert module.triton is triton and module.triton.__name__ == "triton"
        assert hasattr(module.triton, "jit") and hasattr(module.tl, "program_id")
    assert kernels.__name__ == "dlc_kernels.triton" and triton.__file__ != kernels.__file__
