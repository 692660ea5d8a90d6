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

// The shared-memory transpose: a block stages a 32x32 tile in on-chip shared memory, so both the
// global read and the global write go along rows (coalesced); the transpose happens in the tile.
// Shared memory has 32 banks of 4-byte words (bank = word index % 32). Reading a tile column,
// the 32 lanes hit words 32 apart: all in one bank, a 32-way conflict served one word at a time.
// One float of padding per row (TILE + 1 words) shifts each row by one bank: no conflict.
constexpr int TILE = 32;
constexpr int BLOCK_ROWS = 8;  // block (32, 8): each thread moves TILE / BLOCK_ROWS = 4 elements

template <int PAD>
__global__ void transpose_smem_kernel(const float* __restrict__ in, float* __restrict__ out, int rows, int cols) {
  __shared__ float tile[TILE][TILE + PAD];
  int x = blockIdx.x * TILE + threadIdx.x;
  int y = blockIdx.y * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += BLOCK_ROWS)
    if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[static_cast<size_t>(y + j) * cols + x];
  __syncthreads();  // the whole tile is written before anyone reads a column of it
  x = blockIdx.y * TILE + threadIdx.x;  // this block's tile lands at the transposed block position
  y = blockIdx.x * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += BLOCK_ROWS)
    if (x < rows && y + j < cols) out[static_cast<size_t>(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
}

inline void launch_transpose_smem(const float* in, float* out, int rows, int cols, bool pad, cudaStream_t stream) {
  dim3 block(TILE, BLOCK_ROWS);
  dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
  if (pad)
    transpose_smem_kernel<1><<<grid, block, 0, stream>>>(in, out, rows, cols);
  else
    transpose_smem_kernel<0><<<grid, block, 0, stream>>>(in, out, rows, cols);
}
