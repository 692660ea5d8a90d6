// C (M x N) = A (M x K) @ B (K x N), float32, row-major, FP32 FMAs (no tensor cores):
// every Linear layer of a Transformer over a batch of tokens.
#pragma once
#include <cuda_runtime.h>

constexpr int MM_TILE = 32;  // block (32, 32): one thread per element of a 32 x 32 tile of C

// Naive: one thread per C element; threadIdx.x runs along C's columns, so a warp reads one row of B
// coalesced and one element of A (a broadcast). Each thread loads 2K floats for 2K FLOPs.
__global__ void matmul_naive_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                    int M, int N, int K) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= M || col >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[static_cast<size_t>(row) * K + k] * B[static_cast<size_t>(k) * N + col];
  C[static_cast<size_t>(row) * N + col] = acc;
}

// Tiled: the block walks K in steps of T. Each step, every thread loads one element of a T x T tile
// of A and one of B into shared memory (coalesced), and then reads T of each from shared memory.
// Global loads per C element drop from 2K to 2K / T. Each thread still adds its products in the
// order k = 0, 1, ..., K - 1, as the naive kernel does.
template <int T>
__global__ void matmul_tiled_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                    int M, int N, int K) {
  __shared__ float As[T][T];
  __shared__ float Bs[T][T];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += T) {
    // Outside the matrices a tile holds 0: the last, partial tile adds exact zeros.
    As[ty][tx] = (row < M && k0 + tx < K) ? A[static_cast<size_t>(row) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[static_cast<size_t>(k0 + ty) * N + col] : 0.0f;
    __syncthreads();  // both tiles are complete
    for (int k = 0; k < T; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();  // everyone is done reading before the next step overwrites the tiles
  }
  if (row < M && col < N) C[static_cast<size_t>(row) * N + col] = acc;
}

constexpr int MATMUL_VERSIONS = 2;  // 0 naive, 1 tiled

inline void launch_matmul(const float* A, const float* B, float* C, int M, int N, int K, int version,
                          cudaStream_t stream) {
  dim3 block(MM_TILE, MM_TILE);
  dim3 grid((N + MM_TILE - 1) / MM_TILE, (M + MM_TILE - 1) / MM_TILE);
  if (version == 0)
    matmul_naive_kernel<<<grid, block, 0, stream>>>(A, B, C, M, N, K);
  else
    matmul_tiled_kernel<MM_TILE><<<grid, block, 0, stream>>>(A, B, C, M, N, K);
}
