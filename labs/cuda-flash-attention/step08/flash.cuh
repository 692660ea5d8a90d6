// FlashAttention forward, float32: O = softmax(scale * Q K^T) V and each row's logsumexp, in one kernel
// that never writes a score to global memory. A block owns BR query rows (the order of FlashAttention-2:
// the outer loop is over Q blocks) and walks K and V in tiles of BC keys through shared memory.
// A row belongs to SPLIT = D / 64 neighbouring threads, each owning 64 of its D columns: the output row
// acc lives in registers, and 64 floats per thread leave room below the 255-register limit (a thread
// holding all 128 columns of d = 128 would spill). The threads of a row add their halves of each score
// with one shuffle. Per tile: the scores go to ss (shared memory, this thread's own row), the running
// max m and sum l of online softmax and acc are rescaled by exp(m_old - m_new), then the tile's
// exp(s - m_new) terms are added. At the end O = acc / l and lse = m + log l.
// causal: query i sees keys j <= i. A tile whose first key is past the block's last query is masked
// for every row, so the loop stops before it; on the diagonal tiles the keys j > i score -inf.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

#include "tiles.cuh"

constexpr int FLASH_COLS = 64;  // columns of the output row each thread keeps in registers

template <int D, int BR, int BC>
__global__ void flash_forward_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                     const float* __restrict__ v, float* __restrict__ o, float* __restrict__ lse,
                                     int n, float scale, bool causal) {
  constexpr int SPLIT = D / FLASH_COLS, THREADS = BR * SPLIT;
  __shared__ float qs[BR][D + 1];
  __shared__ float ks[BC][D];
  __shared__ float vs[BC][D];
  __shared__ float ss[THREADS][BC + 1];  // each thread's copy of its row's scores for the current tile
  int t = threadIdx.x, r = t / SPLIT, c0 = (t % SPLIT) * FLASH_COLS;
  int h = blockIdx.y, row0 = blockIdx.x * BR, i = row0 + r;
  unsigned row_lanes = ((1u << SPLIT) - 1) << (t % 32 / SPLIT * SPLIT);  // the threads sharing row r
  size_t head = static_cast<size_t>(h) * n * D;
  for (int idx = t; idx < BR * D; idx += THREADS) {  // the Q tile, once; rows past n are zeros
    int rr = idx / D, c = idx % D;
    qs[rr][c] = row0 + rr < n ? q[head + static_cast<size_t>(row0 + rr) * D + c] : 0.0f;
  }
  float acc[FLASH_COLS];
#pragma unroll
  for (int c = 0; c < FLASH_COLS; ++c) acc[c] = 0.0f;
  float m = -INFINITY, l = 0.0f;

  int kv_end = causal ? min(n, row0 + BR) : n;  // past the block's last query: nothing to see
  for (int col0 = 0; col0 < kv_end; col0 += BC) {
    __syncthreads();  // every thread is done with the previous K, V tiles (and the Q tile is in)
    for (int idx = t; idx < BC * D; idx += THREADS) {
      int jj = idx / D, c = idx % D;
      bool in = col0 + jj < n;
      ks[jj][c] = in ? k[head + static_cast<size_t>(col0 + jj) * D + c] : 0.0f;
      vs[jj][c] = in ? v[head + static_cast<size_t>(col0 + jj) * D + c] : 0.0f;
    }
    __syncthreads();  // the K, V tiles are in
    if (i >= n) continue;  // an idle row still loads and waits: the barriers need every thread
    int cols = min(BC, n - col0);

    float m_tile = -INFINITY;
    for (int jj = 0; jj < cols; ++jj) {
      float dot = 0.0f;
#pragma unroll
      for (int c = 0; c < FLASH_COLS; ++c) dot += qs[r][c0 + c] * ks[jj][c0 + c];
      for (int mask = SPLIT / 2; mask > 0; mask >>= 1) dot += __shfl_xor_sync(row_lanes, dot, mask);
      // only this thread reads it back: no barrier needed. exp(-inf - m) = 0 drops a masked key.
      ss[t][jj] = causal && col0 + jj > i ? -INFINITY : dot * scale;
      m_tile = fmaxf(m_tile, ss[t][jj]);
    }
    float m_new = fmaxf(m, m_tile);
    // rescales what earlier tiles added; 0 before the first tile. Tile 0 always holds key 0 <= i,
    // so m is finite from then on and a row masked for a whole diagonal tile gets alpha = 1.
    float alpha = expf(m - m_new);
    l *= alpha;
#pragma unroll
    for (int c = 0; c < FLASH_COLS; ++c) acc[c] *= alpha;
    for (int jj = 0; jj < cols; ++jj) {
      float p = expf(ss[t][jj] - m_new);
      l += p;
#pragma unroll
      for (int c = 0; c < FLASH_COLS; ++c) acc[c] += p * vs[jj][c0 + c];
    }
    m = m_new;
  }
  if (i >= n) return;
  float inv = 1.0f / l;
#pragma unroll
  for (int c = 0; c < FLASH_COLS; ++c) o[head + static_cast<size_t>(i) * D + c0 + c] = acc[c] * inv;
  if (c0 == 0) lse[static_cast<size_t>(h) * n + i] = m + logf(l);
}

template <int D>
void launch_flash_forward_d(const float* q, const float* k, const float* v, float* o, float* lse, int heads, int n,
                            float scale, bool causal, cudaStream_t stream) {
  constexpr int BR = Tiles<D>::BR, BC = Tiles<D>::BC, THREADS = BR * (D / FLASH_COLS);
  static_assert((BR * (D + 1) + 2 * BC * D + THREADS * (BC + 1)) * 4 <= TILE_BUDGET,
                "tiles exceed the shared-memory budget");
  dim3 grid((n + BR - 1) / BR, heads);
  flash_forward_kernel<D, BR, BC><<<grid, THREADS, 0, stream>>>(q, k, v, o, lse, n, scale, causal);
}

// Returns false for a head dimension the kernel is not built for.
inline bool launch_flash_forward(const float* q, const float* k, const float* v, float* o, float* lse, int heads,
                                 int n, int d, float scale, bool causal, cudaStream_t stream) {
  if (d == 64) launch_flash_forward_d<64>(q, k, v, o, lse, heads, n, scale, causal, stream);
  else if (d == 128) launch_flash_forward_d<128>(q, k, v, o, lse, heads, n, scale, causal, stream);
  else return false;
  return true;
}
