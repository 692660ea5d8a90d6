// Row-wise softmax, float32: y = exp(x - max) / sum(exp(x - max)) for each row of x (rows x cols),
// the normalisation of attention scores. Subtracting the row max keeps every exponent <= 0, so
// expf never overflows (expf(x) is inf for x > 88.72), and the result is the same mathematically.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

constexpr int SOFTMAX_BLOCK = 256;  // 8 warps per row
constexpr int SOFTMAX_WARPS = SOFTMAX_BLOCK / 32;

// The xor butterfly: after masks 16, 8, 4, 2, 1 every lane holds the warp's max (or sum).
__device__ float warp_allmax(float v) {
  for (int mask = 16; mask > 0; mask >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, mask));
  return v;
}

__device__ float warp_allsum(float v) {
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}

// One block per row. Each reduction: every thread reduces its own elements (k = tid, tid + 256, ...)
// in a register, each warp reduces its 32 values by shuffles, lane 0 of every warp puts one value in
// shared memory, and after one barrier every warp reduces those 8 values the same way. All threads
// end with the row's value, so no second barrier is needed to broadcast it.
__global__ void softmax_kernel(const float* __restrict__ x, float* __restrict__ y, int cols) {
  __shared__ float warp_max[SOFTMAX_WARPS];
  __shared__ float warp_sum[SOFTMAX_WARPS];
  const float* row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* out = y + static_cast<size_t>(blockIdx.x) * cols;
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

  float m = -INFINITY;  // pass 1: the row max
  for (int k = threadIdx.x; k < cols; k += blockDim.x) m = fmaxf(m, row[k]);
  m = warp_allmax(m);
  if (lane == 0) warp_max[warp] = m;
  __syncthreads();
  m = warp_allmax(lane < SOFTMAX_WARPS ? warp_max[lane] : -INFINITY);

  float s = 0.0f;  // pass 2: the sum of exponentials, each exponent <= 0
  for (int k = threadIdx.x; k < cols; k += blockDim.x) s += expf(row[k] - m);
  s = warp_allsum(s);
  if (lane == 0) warp_sum[warp] = s;
  __syncthreads();
  s = warp_allsum(lane < SOFTMAX_WARPS ? warp_sum[lane] : 0.0f);

  float inv = 1.0f / s;  // pass 3: normalise
  for (int k = threadIdx.x; k < cols; k += blockDim.x) out[k] = expf(row[k] - m) * inv;
}

// Backward, one block per row: with y the forward's output and dy the gradient of the loss,
//   dx_k = y_k * (dy_k - sum_j dy_j * y_j)
// One block sum, the same three levels as the forward's (registers, warp butterfly, 8 warps).
__global__ void softmax_backward_kernel(const float* __restrict__ dy, const float* __restrict__ y,
                                        float* __restrict__ dx, int cols) {
  __shared__ float warp_dot[SOFTMAX_WARPS];
  size_t offset = static_cast<size_t>(blockIdx.x) * cols;
  const float *dyr = dy + offset, *yr = y + offset;
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

  float d = 0.0f;  // pass 1: sum_j dy_j * y_j
  for (int k = threadIdx.x; k < cols; k += blockDim.x) d += dyr[k] * yr[k];
  d = warp_allsum(d);
  if (lane == 0) warp_dot[warp] = d;
  __syncthreads();
  d = warp_allsum(lane < SOFTMAX_WARPS ? warp_dot[lane] : 0.0f);

  for (int k = threadIdx.x; k < cols; k += blockDim.x) dx[offset + k] = yr[k] * (dyr[k] - d);  // pass 2
}

inline void launch_softmax(const float* x, float* y, int rows, int cols, cudaStream_t stream) {
  softmax_kernel<<<rows, SOFTMAX_BLOCK, 0, stream>>>(x, y, cols);
}

inline void launch_softmax_backward(const float* dy, const float* y, float* dx, int rows, int cols,
                                    cudaStream_t stream) {
  softmax_backward_kernel<<<rows, SOFTMAX_BLOCK, 0, stream>>>(dy, y, dx, cols);
}
