// ops.cu: the step's kernels in one translation unit.
// nvcc compiles it alone (the compile check and its ptxas report, on any machine);
// torch.utils.cpp_extension.load builds it as a Python module: it defines TORCH_EXTENSION_NAME,
// which turns on the tensor wrappers and the PYBIND11_MODULE below. Kernels launch on PyTorch's
// current stream, so they are ordered with every other PyTorch op on that stream.
#include "cuda_check.h"
#include "add.cuh"
#include "transpose.cuh"
#include "matmul.cuh"
#include "gemv.cuh"
#include "softmax.cuh"
#include "rmsnorm.cuh"

#ifdef TORCH_EXTENSION_NAME
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/extension.h>

static void check_f32(const torch::Tensor& t, const char* name) {
  TORCH_CHECK(t.is_cuda() && t.is_contiguous() && t.scalar_type() == torch::kFloat32, name,
              " must be a contiguous float32 CUDA tensor");
}

static cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream(); }

// The wrappers allocate their output: Python calls them like torch functions.
torch::Tensor add(torch::Tensor a, torch::Tensor b) {
  check_f32(a, "a");
  check_f32(b, "b");
  TORCH_CHECK(a.sizes() == b.sizes(), "a and b differ in shape");
  auto out = torch::empty_like(a);
  launch_add(a.data_ptr<float>(), b.data_ptr<float>(), out.data_ptr<float>(), a.numel(), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();  // a bad launch raises a Python error instead of passing silently
  return out;
}

torch::Tensor transpose(torch::Tensor in, int64_t version) {
  check_f32(in, "in");
  TORCH_CHECK(in.dim() == 2, "in must be 2-D");
  TORCH_CHECK(version >= 0 && version < TRANSPOSE_VERSIONS, "unknown transpose version");
  auto out = torch::empty({in.size(1), in.size(0)}, in.options());
  launch_transpose(in.data_ptr<float>(), out.data_ptr<float>(), in.size(0), in.size(1), static_cast<int>(version),
                   stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

torch::Tensor matmul(torch::Tensor A, torch::Tensor B, int64_t version) {
  check_f32(A, "A");
  check_f32(B, "B");
  TORCH_CHECK(A.dim() == 2 && B.dim() == 2 && A.size(1) == B.size(0), "need A (M, K) and B (K, N)");
  TORCH_CHECK(version >= 0 && version < MATMUL_VERSIONS, "unknown matmul version");
  auto C = torch::empty({A.size(0), B.size(1)}, A.options());
  launch_matmul(A.data_ptr<float>(), B.data_ptr<float>(), C.data_ptr<float>(), A.size(0), B.size(1), A.size(1),
                static_cast<int>(version), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return C;
}

torch::Tensor gemv(torch::Tensor W, torch::Tensor x, int64_t version) {
  check_f32(W, "W");
  check_f32(x, "x");
  TORCH_CHECK(W.dim() == 2 && x.dim() == 1 && W.size(1) == x.size(0), "need W (M, K) and x (K)");
  TORCH_CHECK(version >= 0 && version < GEMV_VERSIONS, "unknown gemv version");
  auto y = torch::empty({W.size(0)}, W.options());
  launch_gemv(W.data_ptr<float>(), x.data_ptr<float>(), y.data_ptr<float>(), W.size(0), W.size(1),
              static_cast<int>(version), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

torch::Tensor softmax(torch::Tensor x) {
  check_f32(x, "x");
  TORCH_CHECK(x.dim() == 2 && x.size(1) > 0, "x must be 2-D with non-empty rows");
  auto y = torch::empty_like(x);
  if (x.size(0) > 0) launch_softmax(x.data_ptr<float>(), y.data_ptr<float>(), x.size(0), x.size(1), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

std::tuple<torch::Tensor, torch::Tensor> rmsnorm_forward(torch::Tensor x, torch::Tensor w, double eps) {
  check_f32(x, "x");
  check_f32(w, "w");
  TORCH_CHECK(x.dim() == 2 && w.dim() == 1 && x.size(1) == w.size(0) && x.size(1) > 0, "need x (rows, cols), w (cols)");
  auto y = torch::empty_like(x);
  auto rstd = torch::empty({x.size(0)}, x.options());
  if (x.size(0) > 0)
    launch_rmsnorm_forward(x.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), rstd.data_ptr<float>(),
                           x.size(0), x.size(1), static_cast<float>(eps), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {y, rstd};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("add", &add, "out = a + b, one float per thread");
  m.def("transpose", &transpose, "out = in.T; version 0 naive, 1 shared-memory tile, 2 padded tile");
  m.def("matmul", &matmul, "C = A @ B in FP32; version 0 naive, 1 shared-memory tiles");
  m.def("gemv", &gemv, "y = W @ x in FP32; version 0 thread per row, 1 warp per row");
  m.def("softmax", &softmax, "row-wise softmax, one block per row, max subtracted");
  m.def("rmsnorm_forward", &rmsnorm_forward, "(y, rstd) of RMSNorm over rows, one block per row");
}
#endif
