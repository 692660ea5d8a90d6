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

// Register tiling (2D blocktiling): a block of 256 threads computes a BM x BN = 128 x 128 tile of C,
// each thread an 8 x 8 patch held in registers. Per k, a thread loads TM + TN = 16 values from shared
// memory into registers and does TM * TN = 64 FMAs with them: 4 FMAs per shared load instead of 1/2.
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    matmul_regtile_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int M,
                          int N, int K) {
  constexpr int THREADS = (BM / TM) * (BN / TN);
  __shared__ float As[BK][BM];  // the A tile stored transposed, so a thread's TM values are contiguous
  __shared__ float Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);  // this thread's patch in the block tile
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  float acc[TM][TN] = {};
  float regA[TM], regB[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK; i += THREADS) {  // BM * BK / THREADS = 4 loads per thread
      int m = i / BK, k = i % BK;
      As[k][m] = (row0 + m < M && k0 + k < K) ? A[static_cast<size_t>(row0 + m) * K + k0 + k] : 0.0f;
    }
    for (int i = tid; i < BK * BN; i += THREADS) {
      int k = i / BN, n = i % BN;
      Bs[k][n] = (k0 + k < K && col0 + n < N) ? B[static_cast<size_t>(k0 + k) * N + col0 + n] : 0.0f;
    }
    __syncthreads();
    for (int k = 0; k < BK; ++k) {
      for (int i = 0; i < TM; ++i) regA[i] = As[k][ty * TM + i];
      for (int j = 0; j < TN; ++j) regB[j] = Bs[k][tx * TN + j];
      for (int i = 0; i < TM; ++i)
        for (int j = 0; j < TN; ++j) acc[i][j] += regA[i] * regB[j];
    }
    __syncthreads();
  }
  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) {
      int r = row0 + ty * TM + i, c = col0 + tx * TN + j;
      if (r < M && c < N) C[static_cast<size_t>(r) * N + c] = acc[i][j];
    }
}

constexpr int MATMUL_TILE = 32;
constexpr int MATMUL_VERSIONS = 3;
constexpr int RT_BM = 128, RT_BN = 128, RT_BK = 8, RT_TM = 8, RT_TN = 8;

inline void launch_matmul(const float* A, const float* B, float* C, int M, int N, int K, int version,
                          cudaStream_t stream) {
  if (version == 2) {
    dim3 grid((N + RT_BN - 1) / RT_BN, (M + RT_BM - 1) / RT_BM);
    constexpr int threads = (RT_BM / RT_TM) * (RT_BN / RT_TN);
    matmul_regtile_kernel<RT_BM, RT_BN, RT_BK, RT_TM, RT_TN><<<grid, threads, 0, stream>>>(A, B, C, M, N, K);
    return;
  }
  dim3 block(MATMUL_TILE, MATMUL_TILE);
  dim3 grid((N + MATMUL_TILE - 1) / MATMUL_TILE, (M + MATMUL_TILE - 1) / MATMUL_TILE);
  if (version == 0)
    matmul_naive_kernel<<<grid, block, 0, stream>>>(A, B, C, M, N, K);
  else
    matmul_tiled_kernel<MATMUL_TILE><<<grid, block, 0, stream>>>(A, B, C, M, N, K);
}
