// RMSNorm over the rows of x (rows x cols), float32: y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps).
// Forward saves rstd per row; backward uses it for
//   dx = rstd * g - x * (rstd^3 / cols) * sum_k(g_k * x_k),  g = dy * w     (one block per row)
//   dw = sum over rows of dy * x * rstd                                       (one thread per column)
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

// dx for one row per block: one more block sum, sum_k(g_k * x_k); rstd comes from the forward pass.
__global__ void rmsnorm_backward_dx_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                           const float* __restrict__ w, const float* __restrict__ rstd,
                                           float* __restrict__ dx, int cols) {
  __shared__ float warp_part[RMS_WARPS];
  size_t offset = static_cast<size_t>(blockIdx.x) * cols;
  const float *dyr = dy + offset, *xr = x + offset;
  float dot = 0.0f;
  for (int k = threadIdx.x; k < cols; k += blockDim.x) dot += dyr[k] * w[k] * xr[k];
  float r = rstd[blockIdx.x];
  float c = r * r * r / cols * block_allsum(dot, warp_part);
  for (int k = threadIdx.x; k < cols; k += blockDim.x) dx[offset + k] = r * (dyr[k] * w[k]) - xr[k] * c;
}

// dw: a sum over rows, so one thread per column walks down the rows (rows ascending). A warp reads
// 32 neighbouring columns of one row: coalesced. Only `cols` threads: a naive kernel for few columns.
__global__ void rmsnorm_backward_dw_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                           const float* __restrict__ rstd, float* __restrict__ dw, int rows,
                                           int cols) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= cols) return;
  float acc = 0.0f;
  for (int r = 0; r < rows; ++r) {
    size_t i = static_cast<size_t>(r) * cols + col;
    acc += dy[i] * x[i] * rstd[r];
  }
  dw[col] = acc;
}

inline void launch_rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int rows, int cols,
                                   float eps, cudaStream_t stream) {
  rmsnorm_forward_kernel<<<rows, RMS_BLOCK, 0, stream>>>(x, w, y, rstd, cols, eps);
}

inline void launch_rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, float* dx,
                                    float* dw, int rows, int cols, cudaStream_t stream) {
  rmsnorm_backward_dx_kernel<<<rows, RMS_BLOCK, 0, stream>>>(dy, x, w, rstd, dx, cols);
  rmsnorm_backward_dw_kernel<<<(cols + RMS_BLOCK - 1) / RMS_BLOCK, RMS_BLOCK, 0, stream>>>(dy, x, rstd, dw, rows, cols);
}
