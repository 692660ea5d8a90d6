// y (M) = W (M x K) @ x (K), float32, W row-major: a Linear layer for one token (decoding).
// Every weight is read once and used for one FMA, so GEMV is a read of W at memory speed.
#pragma once
#include <cuda_runtime.h>

constexpr int GEMV_BLOCK = 256;  // 8 warps, 8 rows per block in the warp version

// Thread per row: thread r walks row r alone. A warp's 32 lanes read 32 rows at the same k,
// K floats apart: 32 sectors for 128 useful bytes.
__global__ void gemv_thread_kernel(const float* __restrict__ W, const float* __restrict__ x, float* __restrict__ y,
                                   int M, int K) {
  int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= M) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += W[static_cast<size_t>(row) * K + k] * x[k];
  y[row] = acc;
}

// Lane i of the warp adds the products at k = i, i + 32, i + 64, ...; lane 0 ends with the sum.
__device__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Warp per row: the 32 lanes read 32 neighbouring weights of one row (coalesced, 4 sectors), each
// keeps a partial sum in a register, and five shuffles add the 32 partial sums. No shared memory.
__global__ void gemv_warp_kernel(const float* __restrict__ W, const float* __restrict__ x, float* __restrict__ y,
                                 int M, int K) {
  int lane = threadIdx.x % 32;
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= M) return;  // a whole warp leaves together: the shuffles below see all 32 lanes
  const float* w = W + static_cast<size_t>(row) * K;
  float acc = 0.0f;
  for (int k = lane; k < K; k += 32) acc += w[k] * x[k];
  acc = warp_sum(acc);
  if (lane == 0) y[row] = acc;
}

constexpr int GEMV_VERSIONS = 2;  // 0 thread per row, 1 warp per row

inline void launch_gemv(const float* W, const float* x, float* y, int M, int K, int version, cudaStream_t stream) {
  if (version == 0) {
    gemv_thread_kernel<<<(M + GEMV_BLOCK - 1) / GEMV_BLOCK, GEMV_BLOCK, 0, stream>>>(W, x, y, M, K);
  } else {
    const int rows_per_block = GEMV_BLOCK / 32;
    gemv_warp_kernel<<<(M + rows_per_block - 1) / rows_per_block, GEMV_BLOCK, 0, stream>>>(W, x, y, M, K);
  }
}
