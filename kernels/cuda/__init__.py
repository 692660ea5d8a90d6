"""CUDA build-and-check layer shared by the CUDA labs.

- build: find nvcc, compile a .cu for this machine's GPU (compile-only for sm_90a without one),
  parse the `-Xptxas -v` resource report (registers, shared memory, spills per kernel).
- extension: load a .cu into Python as a PyTorch extension (CUDA machines only).
- timing: CUDA-event timing after warm-up, effective bandwidth and FLOP/s against measured ceilings.
- include/cuda_check.h: the CUDA_CHECK macro every CUDA call and launch goes through.
"""
from .build import (INCLUDE_DIR, CompileResult, KernelResources, compile_cu, find_nvcc, nvcc_skip_reason,
                    parse_ptxas, target_arch)

__all__ = ["INCLUDE_DIR", "CompileResult", "KernelResources", "compile_cu", "find_nvcc", "nvcc_skip_reason",
           "parse_ptxas", "target_arch"]
from .extension import extension_skip_reason, load_cuda
from .timing import Ceilings, bandwidth, datasheet_fp32_peak, flop_rate, measure_ceilings, median, time_cuda

__all__ += ["extension_skip_reason", "load_cuda", "Ceilings", "bandwidth", "datasheet_fp32_peak", "flop_rate",
            "measure_ceilings", "median", "time_cuda"]
