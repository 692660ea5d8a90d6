"""How ops.cu becomes a Python module: the arguments to cpp_extension.load, the bindings, the ifdef guard."""
import pytest
import torch

import ext
from dlc_kernels.cuda import INCLUDE_DIR, target_arch

BINDINGS = ["attention_naive", "softmax_online", "scores_tiled", "attention_flash"]


def test_load_kwargs_name_the_sources_by_content():
    kw = ext.load_kwargs()
    stem, digest = kw["name"].split("_")
    assert stem == "ops" and len(digest) == 10 and digest == ext.source_hash()
    assert kw["sources"] == [str(ext.SOURCE)]
    assert f"-arch={target_arch()}" in kw["extra_cuda_cflags"]
    assert str(INCLUDE_DIR) in kw["extra_include_paths"] and str(ext.HERE) in kw["extra_include_paths"]


def test_an_edited_kernel_is_a_new_module(tmp_path, monkeypatch):
    for f in ext.HERE.glob("*.cu*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(ext, "HERE", tmp_path)
    before = ext.source_hash()
    (tmp_path / "naive.cuh").write_text((tmp_path / "naive.cuh").read_text() + "\n// edited\n")
    assert ext.source_hash() != before


def test_bindings_are_the_wrappers():
    assert ext.bindings() == BINDINGS
    lines = [line.strip() for line in ext.SOURCE.read_text().splitlines()]
    guard = lines.index("#ifdef TORCH_EXTENSION_NAME")
    # torch compiles the wrappers only: nvcc alone (the compile check) never sees a torch header
    assert guard < lines.index("#include <torch/extension.h>")
    assert guard < next(i for i, line in enumerate(lines) if line.startswith("PYBIND11_MODULE("))
    assert lines[-1] == "#endif"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU; the error is for machines without")
def test_loading_without_a_gpu_says_why():
    with pytest.raises(RuntimeError, match="CUDA"):
        ext.ops()
