// ops.cu: the step's kernels in one translation unit.
// nvcc compiles it alone (the compile check and its ptxas report, on any machine);
// torch.utils.cpp_extension.load builds it as a Python module: it defines TORCH_EXTENSION_NAME,
// which turns on the tensor wrappers and the PYBIND11_MODULE below. Kernels launch on PyTorch's
// current stream, so they are ordered with every other PyTorch op on that stream.
#include "cuda_check.h"
#include "naive.cuh"
#include "online.cuh"
#include "tiles.cuh"
#include "flash.cuh"

#ifdef TORCH_EXTENSION_NAME
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/extension.h>

#include <cmath>
#include <optional>

static void check_qkv(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  for (const auto* t : {&q, &k, &v})
    TORCH_CHECK(t->is_cuda() && t->is_contiguous() && t->scalar_type() == torch::kFloat32,
                "q, k, v must be contiguous float32 CUDA tensors");
  TORCH_CHECK(q.dim() == 3 && q.sizes() == k.sizes() && q.sizes() == v.sizes(), "q, k, v must be (heads, n, d) alike");
}

static cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream(); }

// Returns O; the (heads, n, n) score buffer lives only for the call.
torch::Tensor attention_naive(torch::Tensor q, torch::Tensor k, torch::Tensor v) {
  check_qkv(q, k, v);
  int heads = q.size(0), n = q.size(1), d = q.size(2);
  auto o = torch::empty_like(q);
  auto s = torch::empty({heads, n, n}, q.options());
  if (q.numel() > 0)
    launch_attention_naive(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), s.data_ptr<float>(),
                           o.data_ptr<float>(), heads, n, d, 1.0f / std::sqrt(static_cast<float>(d)), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();  // a bad launch raises a Python error instead of passing silently
  return o;
}

torch::Tensor softmax_online(torch::Tensor x) {
  TORCH_CHECK(x.is_cuda() && x.is_contiguous() && x.scalar_type() == torch::kFloat32,
              "x must be a contiguous float32 CUDA tensor");
  TORCH_CHECK(x.dim() == 2 && x.size(1) > 0, "x must be 2-D with non-empty rows");
  auto y = torch::empty_like(x);
  if (x.size(0) > 0) launch_online_softmax(x.data_ptr<float>(), y.data_ptr<float>(), x.size(0), x.size(1), stream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

torch::Tensor scores_tiled(torch::Tensor q, torch::Tensor k) {
  check_qkv(q, k, k);
  int heads = q.size(0), n = q.size(1), d = q.size(2);
  auto s = torch::empty({heads, n, n}, q.options());
  if (q.numel() > 0)
    TORCH_CHECK(launch_scores_tiled(q.data_ptr<float>(), k.data_ptr<float>(), s.data_ptr<float>(), heads, n, d,
                                    1.0f / std::sqrt(static_cast<float>(d)), stream()),
                "scores_tiled is built for head dimensions 64 and 128");
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return s;
}

// Returns (O, lse): lse (heads, n) is what a backward pass needs to rebuild P without storing it.
std::vector<torch::Tensor> attention_flash(torch::Tensor q, torch::Tensor k, torch::Tensor v, bool causal,
                                           std::optional<double> scale) {
  check_qkv(q, k, v);
  int heads = q.size(0), n = q.size(1), d = q.size(2);
  auto o = torch::empty_like(q);
  auto lse = torch::empty({heads, n}, q.options());
  if (q.numel() > 0)
    TORCH_CHECK(launch_flash_forward(q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), o.data_ptr<float>(),
                                     lse.data_ptr<float>(), heads, n, d,
                                     static_cast<float>(scale.value_or(1.0 / std::sqrt(static_cast<double>(d)))),
                                     causal, stream()),
                "attention_flash is built for head dimensions 64 and 128");
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {o, lse};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("attention_naive", &attention_naive, "softmax(Q K^T / sqrt(d)) V in three kernels, S in global memory");
  m.def("softmax_online", &softmax_online, "row-wise softmax, one warp per row, running max and sum in one pass");
  m.def("scores_tiled", &scores_tiled, "S = Q K^T / sqrt(d) through shared-memory tiles (d = 64 or 128)");
  m.def("attention_flash", &attention_flash, "(O, lse): tiles and online softmax in one kernel (d = 64 or 128)",
        py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal") = false,
        py::arg("scale") = py::none());
}
#endif
