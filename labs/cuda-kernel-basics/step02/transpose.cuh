// Access patterns. A warp's 32 loads are served in 32-byte sectors: 32 consecutive floats
// need 4 sectors (coalesced); 32 floats 32 apart need 32 sectors, each used for 4 of its 32 bytes.
#pragma once
#include <cuda_runtime.h>

// dst[i] = src[i * stride]: neighbouring threads read floats `stride` apart.
__global__ void copy_strided_kernel(const float* __restrict__ src, float* __restrict__ dst, size_t n, int stride) {
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = src[i * stride];
}

inline void launch_copy_strided(const float* src, float* dst, size_t n, int stride, cudaStream_t stream) {
  const unsigned block = 256;
  copy_strided_kernel<<<static_cast<unsigned>((n + block - 1) / block), block, 0, stream>>>(src, dst, n, stride);
}

// out (cols x rows) = in (rows x cols) transposed, one element per thread, block (32, 8).
// Reads are coalesced (a warp reads 32 neighbours of one row of `in`); writes are not: the same
// warp writes 32 elements of one column of `out`, `rows` floats apart.
__global__ void transpose_naive_kernel(const float* __restrict__ in, float* __restrict__ out, int rows, int cols) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < rows && col < cols) out[static_cast<size_t>(col) * rows + row] = in[static_cast<size_t>(row) * cols + col];
}

inline void launch_transpose_naive(const float* in, float* out, int rows, int cols, cudaStream_t stream) {
  dim3 block(32, 8);
  dim3 grid((cols + block.x - 1) / block.x, (rows + block.y - 1) / block.y);
  transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
}
