// RMSNorm over the rows of x (rows x cols), float32: y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps).
// One block per row; the forward also saves rstd per row, the one number a backward pass will need.
#pragma once
#include <cuda_runtime.h>
#include "softmax.cuh"  // warp_allsum: the xor butterfly

constexpr int RMS_BLOCK = 256;
constexpr int RMS_WARPS = RMS_BLOCK / 32;

// softmax_kernel's sum in a function: registers -> warps -> 8 values in shared memory -> every warp.
__device__ float block_allsum(float v, float* warp_part) {
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_allsum(v);
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  return warp_allsum(lane < RMS_WARPS ? warp_part[lane] : 0.0f);
}

__global__ void rmsnorm_forward_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                       float* __restrict__ y, float* __restrict__ rstd, int cols, float eps) {
  __shared__ float warp_part[RMS_WARPS];
  const float* xr = x + static_cast<size_t>(blockIdx.x) * cols;
  float* yr = y + static_cast<size_t>(blockIdx.x) * cols;
  float ss = 0.0f;
  for (int k = threadIdx.x; k < cols; k += blockDim.x) ss += xr[k] * xr[k];
  float r = rsqrtf(block_allsum(ss, warp_part) / cols + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int k = threadIdx.x; k < cols; k += blockDim.x) yr[k] = xr[k] * r * w[k];
}

inline void launch_rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int rows, int cols,
                                   float eps, cudaStream_t stream) {
  rmsnorm_forward_kernel<<<rows, RMS_BLOCK, 0, stream>>>(x, w, y, rstd, cols, eps);
}
