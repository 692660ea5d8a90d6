// ops.cu: the step's kernels in one translation unit.
// nvcc compiles it alone (the compile check and its ptxas report, on any machine);
// dlc_kernels.cuda.load_cuda builds it as a PyTorch extension, which defines TORCH_EXTENSION_NAME
// and turns on the tensor wrappers below. Kernels launch on PyTorch's current stream, so
// CUDA events recorded by PyTorch time them.
#include "cuda_check.h"
#include "copy.cuh"

#ifdef TORCH_EXTENSION_NAME
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/extension.h>

static void check_f32(const torch::Tensor& t, const char* name) {
  TORCH_CHECK(t.is_cuda() && t.is_contiguous() && t.scalar_type() == torch::kFloat32, name,
              " must be a contiguous float32 CUDA tensor");
}

static cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream(); }

void copy(torch::Tensor src, torch::Tensor dst) {
  check_f32(src, "src");
  check_f32(dst, "dst");
  TORCH_CHECK(src.numel() == dst.numel(), "src and dst differ in size");
  launch_copy(src.data_ptr<float>(), dst.data_ptr<float>(), src.numel(), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();  // a bad launch raises a Python error instead of passing silently
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("copy", &copy, "dst[i] = src[i], one float per thread");
}
#endif
