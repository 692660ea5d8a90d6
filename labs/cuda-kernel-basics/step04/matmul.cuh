// C (M x N) = A (M x K) @ B (K x N), float32, row-major, FP32 FMAs (no tensor cores).
#pragma once
#include <cuda_runtime.h>

// One thread per C element; x runs along C's columns so a warp reads one row of B coalesced.
// Every thread reads a whole row of A and column of B from global memory: 2K loads for 2K FLOPs.
__global__ void matmul_naive_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                    int M, int N, int K) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= M || col >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += A[static_cast<size_t>(row) * K + k] * B[static_cast<size_t>(k) * N + col];
  C[static_cast<size_t>(row) * N + col] = acc;
}

// Shared-memory tiling: the block loads a T x T tile of A and of B once (one element per thread,
// coalesced), then every thread reads T values of each from shared memory. Global loads per
// C element drop from 2K to 2K / T.
template <int T>
__global__ void matmul_tiled_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                                    int M, int N, int K) {
  __shared__ float As[T][T];
  __shared__ float Bs[T][T];
  int tx = threadIdx.x, ty = threadIdx.y;
  int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += T) {
    // Out-of-range elements load as 0, so the partial last tile adds nothing.
    As[ty][tx] = (row < M && k0 + tx < K) ? A[static_cast<size_t>(row) * K + k0 + tx] : 0.0f;
    Bs[ty][tx] = (k0 + ty < K && col < N) ? B[static_cast<size_t>(k0 + ty) * N + col] : 0.0f;
    __syncthreads();  // the tiles are complete
    for (int k = 0; k < T; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();  // everyone is done with the tiles before they are overwritten
  }
  if (row < M && col < N) C[static_cast<size_t>(row) * N + col] = acc;
}

constexpr int MATMUL_TILE = 32;
constexpr int MATMUL_VERSIONS = 2;

inline void launch_matmul(const float* A, const float* B, float* C, int M, int N, int K, int version,
                          cudaStream_t stream) {
  dim3 block(MATMUL_TILE, MATMUL_TILE);
  dim3 grid((N + MATMUL_TILE - 1) / MATMUL_TILE, (M + MATMUL_TILE - 1) / MATMUL_TILE);
  if (version == 0)
    matmul_naive_kernel<<<grid, block, 0, stream>>>(A, B, C, M, N, K);
  else
    matmul_tiled_kernel<MATMUL_TILE><<<grid, block, 0, stream>>>(A, B, C, M, N, K);
}
