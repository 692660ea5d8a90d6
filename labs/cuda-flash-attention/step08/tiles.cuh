// Tiled scores, float32: S = scale * Q K^T with Q and K read through shared memory. A block owns BR
// query rows (one thread per row) and walks the keys BC at a time: it loads its Q tile once, then each
// K tile once, and every thread reads D floats of its Q row and D of each key from shared memory.
// K is read from global memory n / BR times instead of once per score.
// BR, BC come from the shared-memory budget (tiling.py: block_sizes); the Q tile gets one float of
// padding per row, so the 32 threads reading qs[r][c] for one c hit 32 different banks.
#pragma once
#include <cuda_runtime.h>

constexpr int TILE_BUDGET = 32 * 1024;  // bytes of shared memory a block may use for its tiles

// Block sizes for each head dimension the kernels are built for: BR = BC = budget / (4 * 4 B * D).
template <int D> struct Tiles;
template <> struct Tiles<64> { static constexpr int BR = 32, BC = 32; };
template <> struct Tiles<128> { static constexpr int BR = 16, BC = 16; };

template <int D, int BR, int BC>
__global__ void scores_tiled_kernel(const float* __restrict__ q, const float* __restrict__ k, float* __restrict__ s,
                                    int n, float scale) {
  __shared__ float qs[BR][D + 1];
  __shared__ float ks[BC][D];
  int h = blockIdx.y, r = threadIdx.x, row0 = blockIdx.x * BR, i = row0 + r;
  const float* qh = q + static_cast<size_t>(h) * n * D;
  const float* kh = k + static_cast<size_t>(h) * n * D;
  for (int idx = r; idx < BR * D; idx += BR) {  // the Q tile, once; rows past n are zeros
    int rr = idx / D, c = idx % D;
    qs[rr][c] = row0 + rr < n ? qh[static_cast<size_t>(row0 + rr) * D + c] : 0.0f;
  }
  for (int col0 = 0; col0 < n; col0 += BC) {
    __syncthreads();  // every thread is done with the previous K tile (and the Q tile is in)
    for (int idx = r; idx < BC * D; idx += BR) {
      int jj = idx / D, c = idx % D;
      ks[jj][c] = col0 + jj < n ? kh[static_cast<size_t>(col0 + jj) * D + c] : 0.0f;
    }
    __syncthreads();  // the K tile is in
    if (i >= n) continue;  // an idle row still loads and waits: the barriers need every thread
    for (int jj = 0; jj < BC && col0 + jj < n; ++jj) {
      float acc = 0.0f;
      for (int c = 0; c < D; ++c) acc += qs[r][c] * ks[jj][c];  // ks[jj][c]: one word for all threads
      s[(static_cast<size_t>(h) * n + i) * n + col0 + jj] = acc * scale;
    }
  }
}

template <int D>
void launch_scores_tiled_d(const float* q, const float* k, float* s, int heads, int n, float scale,
                           cudaStream_t stream) {
  constexpr int BR = Tiles<D>::BR, BC = Tiles<D>::BC;
  static_assert((BR * (D + 1) + BC * D) * 4 <= TILE_BUDGET, "tiles exceed the shared-memory budget");
  dim3 grid((n + BR - 1) / BR, heads);
  scores_tiled_kernel<D, BR, BC><<<grid, BR, 0, stream>>>(q, k, s, n, scale);
}

// Returns false for a head dimension the kernel is not built for.
inline bool launch_scores_tiled(const float* q, const float* k, float* s, int heads, int n, int d, float scale,
                                cudaStream_t stream) {
  if (d == 64) launch_scores_tiled_d<64>(q, k, s, heads, n, scale, stream);
  else if (d == 128) launch_scores_tiled_d<128>(q, k, s, heads, n, scale, stream);
  else return false;
  return true;
}
