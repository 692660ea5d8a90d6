// Naive attention, float32, over (heads, n, d) tensors: three kernels, each a pass over global memory.
// scores_kernel writes S = scale * Q K^T (n x n floats per head), softmax_rows_kernel turns S into P
// in place, and pv_kernel reads P to form O = P V. The n^2 scores go to HBM and come back twice.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

constexpr int NAIVE_TILE = 16;     // 16 x 16 threads per block for the two matmul-shaped kernels
constexpr int SOFTMAX_WARPS = 4;   // rows per block in softmax_rows_kernel, one warp each

// S[h, i, j] = scale * sum_c Q[h, i, c] K[h, j, c]: one thread per score.
__global__ void scores_kernel(const float* __restrict__ q, const float* __restrict__ k, float* __restrict__ s,
                              int n, int d, float scale) {
  int h = blockIdx.z, i = blockIdx.y * NAIVE_TILE + threadIdx.y, j = blockIdx.x * NAIVE_TILE + threadIdx.x;
  if (i >= n || j >= n) return;
  const float* qi = q + (static_cast<size_t>(h) * n + i) * d;
  const float* kj = k + (static_cast<size_t>(h) * n + j) * d;
  float acc = 0.0f;
  for (int c = 0; c < d; ++c) acc += qi[c] * kj[c];
  s[(static_cast<size_t>(h) * n + i) * n + j] = acc * scale;
}

// The xor butterfly: after masks 16, 8, 4, 2, 1 every lane holds the warp's max (or sum).
__device__ float warp_allmax(float v) {
  for (int mask = 16; mask > 0; mask >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, mask));
  return v;
}

__device__ float warp_allsum(float v) {
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

// P = softmax(S) row by row, in place: one warp per row; lane t takes columns t, t + 32, ...
// Three passes over the row: its max, the sum of exp(s - max), then the normalised values.
__global__ void softmax_rows_kernel(float* __restrict__ s, int rows, int n) {
  int row = blockIdx.x * SOFTMAX_WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= rows) return;  // a whole warp leaves together: the shuffles below stay full-warp
  float* x = s + static_cast<size_t>(row) * n;
  float m = -INFINITY;
  for (int j = lane; j < n; j += 32) m = fmaxf(m, x[j]);
  m = warp_allmax(m);
  float l = 0.0f;
  for (int j = lane; j < n; j += 32) l += expf(x[j] - m);
  float inv = 1.0f / warp_allsum(l);
  for (int j = lane; j < n; j += 32) x[j] = expf(x[j] - m) * inv;
}

// O[h, i, c] = sum_j P[h, i, j] V[h, j, c]: one thread per output element.
__global__ void pv_kernel(const float* __restrict__ p, const float* __restrict__ v, float* __restrict__ o,
                          int n, int d) {
  int h = blockIdx.z, i = blockIdx.y * NAIVE_TILE + threadIdx.y, c = blockIdx.x * NAIVE_TILE + threadIdx.x;
  if (i >= n || c >= d) return;
  const float* pi = p + (static_cast<size_t>(h) * n + i) * n;
  const float* vh = v + static_cast<size_t>(h) * n * d;
  float acc = 0.0f;
  for (int j = 0; j < n; ++j) acc += pi[j] * vh[static_cast<size_t>(j) * d + c];
  o[(static_cast<size_t>(h) * n + i) * d + c] = acc;
}

// s is the caller's (heads, n, n) scratch: the memory naive attention cannot avoid.
inline void launch_attention_naive(const float* q, const float* k, const float* v, float* s, float* o, int heads,
                                   int n, int d, float scale, cudaStream_t stream) {
  dim3 block(NAIVE_TILE, NAIVE_TILE);
  dim3 grid_s((n + NAIVE_TILE - 1) / NAIVE_TILE, (n + NAIVE_TILE - 1) / NAIVE_TILE, heads);
  scores_kernel<<<grid_s, block, 0, stream>>>(q, k, s, n, d, scale);
  int rows = heads * n;
  softmax_rows_kernel<<<(rows + SOFTMAX_WARPS - 1) / SOFTMAX_WARPS, 32 * SOFTMAX_WARPS, 0, stream>>>(s, rows, n);
  dim3 grid_o((d + NAIVE_TILE - 1) / NAIVE_TILE, (n + NAIVE_TILE - 1) / NAIVE_TILE, heads);
  pv_kernel<<<grid_o, block, 0, stream>>>(s, v, o, n, d);
}
