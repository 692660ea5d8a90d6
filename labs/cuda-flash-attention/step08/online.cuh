// Online softmax, float32: one warp per row. Each lane walks its columns once, keeping a running max m
// and a running sum l of exp(x - m); when a larger x arrives, the old sum is rescaled by exp(m_old - m_new).
// The 32 lanes' (m, l) pairs are then merged by the xor butterfly with the same rescaling, and a second
// pass writes y = exp(x - m) / l. Two reads of the row instead of three; the max never needs its own pass.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

constexpr int ONLINE_WARPS = 4;  // rows per block, one warp each

// (m, l) after one more element x (x finite): l is always the sum of exp(x_j - m) over the elements seen.
__device__ void online_update(float& m, float& l, float x) {
  float m_new = fmaxf(m, x);
  l = l * expf(m - m_new) + expf(x - m_new);  // the first element: expf(-inf) = 0 drops the empty sum
  m = m_new;
}

// Merge two partial (m, l) pairs: both sums are brought to the larger max. Two empty lanes stay empty.
__device__ void online_merge(float& m, float& l, float m_other, float l_other) {
  float m_new = fmaxf(m, m_other);
  l = m_new == -INFINITY ? 0.0f : l * expf(m - m_new) + l_other * expf(m_other - m_new);
  m = m_new;
}

__global__ void online_softmax_kernel(const float* __restrict__ x, float* __restrict__ y, int rows, int n) {
  int row = blockIdx.x * ONLINE_WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= rows) return;  // a whole warp leaves together: the shuffles below stay full-warp
  const float* in = x + static_cast<size_t>(row) * n;
  float* out = y + static_cast<size_t>(row) * n;
  float m = -INFINITY, l = 0.0f;
  for (int j = lane; j < n; j += 32) online_update(m, l, in[j]);  // pass 1: max and sum together
  for (int mask = 16; mask > 0; mask >>= 1) {
    float m_other = __shfl_xor_sync(0xffffffffu, m, mask);
    float l_other = __shfl_xor_sync(0xffffffffu, l, mask);
    online_merge(m, l, m_other, l_other);
  }
  float inv = 1.0f / l;
  for (int j = lane; j < n; j += 32) out[j] = expf(in[j] - m) * inv;  // pass 2: normalise
}

inline void launch_online_softmax(const float* x, float* y, int rows, int n, cudaStream_t stream) {
  online_softmax_kernel<<<(rows + ONLINE_WARPS - 1) / ONLINE_WARPS, 32 * ONLINE_WARPS, 0, stream>>>(x, y, rows, n);
}
