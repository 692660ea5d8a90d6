// out (cols x rows) = in (rows x cols) transposed, float32, row-major. Attention needs K^T and a
// Linear layer's backward needs dY^T: a transpose moves every element once, so its speed is memory speed.
#pragma once
#include <cuda_runtime.h>

constexpr int TILE = 32;        // a 32 x 32 tile per block
constexpr int BLOCK_ROWS = 8;   // block (32, 8): each thread moves TILE / BLOCK_ROWS = 4 elements

// Naive: one element per thread. A warp reads 32 neighbours of one row of `in` (coalesced) and
// writes them to 32 rows of `out`, `rows` floats apart: 32 separate 32-byte sectors per write.
__global__ void transpose_naive_kernel(const float* __restrict__ in, float* __restrict__ out, int rows, int cols) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < rows && col < cols) out[static_cast<size_t>(col) * rows + row] = in[static_cast<size_t>(row) * cols + col];
}

// Tiled: the block reads a 32 x 32 tile along rows into shared memory, then writes it out along
// rows of `out`, reading the tile by columns. Both global accesses are coalesced; the transpose
// happens on chip. A tile column is 32 words TILE + PAD apart: with PAD = 0 every word is in the
// same bank (bank = word % 32), a 32-way conflict; PAD = 1 puts them in 32 different banks.
template <int PAD>
__global__ void transpose_tiled_kernel(const float* __restrict__ in, float* __restrict__ out, int rows, int cols) {
  __shared__ float tile[TILE][TILE + PAD];
  int x = blockIdx.x * TILE + threadIdx.x;  // column of `in`
  int y = blockIdx.y * TILE + threadIdx.y;  // row of `in`
  for (int j = 0; j < TILE; j += BLOCK_ROWS)
    if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[static_cast<size_t>(y + j) * cols + x];
  __syncthreads();  // the whole tile is in shared memory before anyone reads a column of it
  x = blockIdx.y * TILE + threadIdx.x;  // column of `out`: the tile lands at the mirrored block position
  y = blockIdx.x * TILE + threadIdx.y;  // row of `out`
  for (int j = 0; j < TILE; j += BLOCK_ROWS)
    if (x < rows && y + j < cols) out[static_cast<size_t>(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
}

constexpr int TRANSPOSE_VERSIONS = 3;  // 0 naive, 1 tiled, 2 tiled + padded

inline void launch_transpose(const float* in, float* out, int rows, int cols, int version, cudaStream_t stream) {
  dim3 block(TILE, BLOCK_ROWS);
  if (version == 0) {
    dim3 grid((cols + TILE - 1) / TILE, (rows + BLOCK_ROWS - 1) / BLOCK_ROWS);
    transpose_naive_kernel<<<grid, block, 0, stream>>>(in, out, rows, cols);
    return;
  }
  dim3 grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
  if (version == 1)
    transpose_tiled_kernel<0><<<grid, block, 0, stream>>>(in, out, rows, cols);
  else
    transpose_tiled_kernel<1><<<grid, block, 0, stream>>>(in, out, rows, cols);
}
