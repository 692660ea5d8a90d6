// ops.cu: the step's kernels in one translation unit.
// nvcc compiles it alone (the compile check and its ptxas report, on any machine);
// dlc_kernels.cuda.load_cuda builds it as a PyTorch extension, which defines TORCH_EXTENSION_NAME
// and turns on the tensor wrappers below. Kernels launch on PyTorch's current stream, so
// CUDA events recorded by PyTorch time them.
#include "cuda_check.h"
#include "copy.cuh"
#include "transpose.cuh"
#include "matmul.cuh"
#include "reduce.cuh"

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

void copy_strided(torch::Tensor src, torch::Tensor dst, int64_t stride) {
  check_f32(src, "src");
  check_f32(dst, "dst");
  TORCH_CHECK(stride >= 1 && src.numel() >= dst.numel() * stride, "src must hold dst.numel() * stride floats");
  launch_copy_strided(src.data_ptr<float>(), dst.data_ptr<float>(), dst.numel(), static_cast<int>(stride), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

void transpose_naive(torch::Tensor in, torch::Tensor out) {
  check_f32(in, "in");
  check_f32(out, "out");
  TORCH_CHECK(in.dim() == 2 && out.dim() == 2 && out.size(0) == in.size(1) && out.size(1) == in.size(0),
              "out must be in's transpose shape");
  launch_transpose_naive(in.data_ptr<float>(), out.data_ptr<float>(), in.size(0), in.size(1), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

void transpose_smem(torch::Tensor in, torch::Tensor out, bool pad) {
  check_f32(in, "in");
  check_f32(out, "out");
  TORCH_CHECK(in.dim() == 2 && out.dim() == 2 && out.size(0) == in.size(1) && out.size(1) == in.size(0),
              "out must be in's transpose shape");
  launch_transpose_smem(in.data_ptr<float>(), out.data_ptr<float>(), in.size(0), in.size(1), pad, stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

void matmul(torch::Tensor A, torch::Tensor B, torch::Tensor C, int64_t version) {
  check_f32(A, "A");
  check_f32(B, "B");
  check_f32(C, "C");
  TORCH_CHECK(A.dim() == 2 && B.dim() == 2 && C.dim() == 2 && A.size(1) == B.size(0) && C.size(0) == A.size(0) &&
                  C.size(1) == B.size(1), "need A (M, K), B (K, N), C (M, N)");
  TORCH_CHECK(version >= 0 && version < MATMUL_VERSIONS, "unknown matmul version");
  launch_matmul(A.data_ptr<float>(), B.data_ptr<float>(), C.data_ptr<float>(), A.size(0), B.size(1), A.size(1),
                static_cast<int>(version), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// out[0] = sum(x): one launch per pass, each pass leaving one partial sum per block, until one is left.
void reduce_sum(torch::Tensor x, torch::Tensor out, int64_t version) {
  check_f32(x, "x");
  check_f32(out, "out");
  TORCH_CHECK(x.numel() >= 1 && out.numel() == 1, "need a non-empty x and a one-element out");
  TORCH_CHECK(version >= 1 && version <= REDUCE_VERSIONS, "unknown reduce version");
  const float* src = x.data_ptr<float>();
  size_t n = x.numel();
  torch::Tensor partial[2];  // ping-pong buffers; the caching allocator keeps them cheap
  for (int which = 0;; which ^= 1) {
    unsigned blocks = reduce_blocks(n, static_cast<int>(version));
    float* dst = out.data_ptr<float>();
    if (blocks > 1) dst = (partial[which] = torch::empty({blocks}, x.options())).data_ptr<float>();
    launch_reduce(src, dst, n, static_cast<int>(version), stream());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (blocks == 1) break;
    src = dst;
    n = blocks;
  }
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("copy", &copy, "dst[i] = src[i], one float per thread");
  m.def("copy_strided", &copy_strided, "dst[i] = src[i * stride]");
  m.def("transpose_naive", &transpose_naive, "out = in.T, coalesced reads, strided writes");
  m.def("transpose_smem", &transpose_smem, "out = in.T through a shared-memory tile, optionally padded");
  m.def("matmul", &matmul, "C = A @ B in FP32; version 0 naive, 1 shared-memory tiled, 2 register-tiled");
  m.def("reduce_sum", &reduce_sum, "out[0] = sum(x) with Harris's reduction version 1..6");
}
#endif
