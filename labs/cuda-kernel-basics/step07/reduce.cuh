// Sum of n floats, after Mark Harris, "Optimizing Parallel Reduction in CUDA" (versions 1..6).
// Each launch turns n values into one partial sum per block; the host launches again on the
// partial sums until one value is left. Block size 256 throughout.
#pragma once
#include <cuda_runtime.h>

constexpr int REDUCE_BLOCK = 256;

// v1: interleaved addressing. At step s, threads whose id is a multiple of 2s add the value s away.
// `tid % (2 * s)` leaves active threads scattered over every warp: divergent warps, slow modulo.
__global__ void reduce_v1(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + tid;
  s_data[tid] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (unsigned s = 1; s < blockDim.x; s *= 2) {
    if (tid % (2 * s) == 0) s_data[tid] += s_data[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// v2: the same pairs, but thread t works on index 2*s*t: active threads are contiguous (no
// divergence until fewer than 32 remain) and the shared-memory stride 2s causes bank conflicts.
__global__ void reduce_v2(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + tid;
  s_data[tid] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (unsigned s = 1; s < blockDim.x; s *= 2) {
    unsigned index = 2 * s * tid;
    if (index < blockDim.x) s_data[index] += s_data[index + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// v3: sequential addressing. Thread t adds the value half a block away: contiguous threads,
// contiguous words, no conflicts. Half the threads are idle from the first step.
__global__ void reduce_v3(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + tid;
  s_data[tid] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) s_data[tid] += s_data[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// v4: first add during load. A block reads 2 * blockDim values and adds pairs on the way in:
// half the blocks, and no thread is idle in the first step.
__global__ void reduce_v4(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  size_t i = static_cast<size_t>(blockIdx.x) * (2 * blockDim.x) + tid;
  s_data[tid] = (i < n ? in[i] : 0.0f) + (i + blockDim.x < n ? in[i + blockDim.x] : 0.0f);
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) s_data[tid] += s_data[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// The last 32 values live in one warp: no __syncthreads needed, only __syncwarp between the read
// and the write of each step (lanes are not guaranteed to run in lockstep since Volta).
__device__ void warp_reduce_smem(float* s_data, unsigned tid) {
  for (unsigned s = 32; s > 0; s >>= 1) {
    float v = s_data[tid] + s_data[tid + s];
    __syncwarp();
    s_data[tid] = v;
    __syncwarp();
  }
}

// v5: unroll the last warp: the loop stops at s = 64 and one warp finishes without block barriers.
__global__ void reduce_v5(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  size_t i = static_cast<size_t>(blockIdx.x) * (2 * blockDim.x) + tid;
  s_data[tid] = (i < n ? in[i] : 0.0f) + (i + blockDim.x < n ? in[i + blockDim.x] : 0.0f);
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 32; s >>= 1) {
    if (tid < s) s_data[tid] += s_data[tid + s];
    __syncthreads();
  }
  if (tid < 32) warp_reduce_smem(s_data, tid);
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// v6: many elements per thread. A fixed grid strides over the input; each thread first sums its
// own values in a register (no shared memory, no barriers), then the block tree runs once.
__global__ void reduce_v6(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float s_data[REDUCE_BLOCK];
  unsigned tid = threadIdx.x;
  float sum = 0.0f;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + tid; i < n; i += stride) sum += in[i];
  s_data[tid] = sum;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 32; s >>= 1) {
    if (tid < s) s_data[tid] += s_data[tid + s];
    __syncthreads();
  }
  if (tid < 32) warp_reduce_smem(s_data, tid);
  if (tid == 0) out[blockIdx.x] = s_data[0];
}

// Warp shuffle: lane i reads lane i + offset's register directly (no shared memory, no barrier).
// After offsets 16, 8, 4, 2, 1, lane 0 holds the sum of the warp's 32 values.
__device__ float warp_reduce_shfl(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// v7: v6's grid-stride loads, then shuffles: every warp reduces its 32 values in registers, lane 0
// of each writes one value to shared memory (8 floats), and warp 0 reduces those. One barrier.
__global__ void reduce_v7(const float* __restrict__ in, float* __restrict__ out, size_t n) {
  __shared__ float warp_sums[REDUCE_BLOCK / 32];
  unsigned tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  float sum = 0.0f;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + tid; i < n; i += stride) sum += in[i];
  sum = warp_reduce_shfl(sum);
  if (lane == 0) warp_sums[warp] = sum;
  __syncthreads();
  if (warp == 0) {
    sum = warp_reduce_shfl(lane < REDUCE_BLOCK / 32 ? warp_sums[lane] : 0.0f);
    if (lane == 0) out[blockIdx.x] = sum;
  }
}

constexpr int REDUCE_VERSIONS = 7;
constexpr unsigned REDUCE_V6_BLOCKS = 1024;  // enough resident blocks to fill an H100 (132 SMs x 8)

// Blocks one launch of `version` uses for n inputs: the partial sums it leaves.
inline unsigned reduce_blocks(size_t n, int version) {
  size_t per_block = version >= 4 && version <= 5 ? 2 * REDUCE_BLOCK : REDUCE_BLOCK;
  size_t blocks = (n + per_block - 1) / per_block;
  if (version >= 6 && blocks > REDUCE_V6_BLOCKS) blocks = REDUCE_V6_BLOCKS;
  return static_cast<unsigned>(blocks);
}

inline void launch_reduce(const float* in, float* out, size_t n, int version, cudaStream_t stream) {
  unsigned grid = reduce_blocks(n, version);
  switch (version) {
    case 1: reduce_v1<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    case 2: reduce_v2<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    case 3: reduce_v3<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    case 4: reduce_v4<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    case 5: reduce_v5<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    case 6: reduce_v6<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
    default: reduce_v7<<<grid, REDUCE_BLOCK, 0, stream>>>(in, out, n); break;
  }
}
