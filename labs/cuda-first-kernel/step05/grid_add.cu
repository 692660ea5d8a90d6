// grid_add: c = a + b for a 2D (H x W) or 3D (D x H x W) row-major float32 array,
// with 2D and 3D grids: the thread's coordinates are the element's coordinates.
// Usage: grid_add D H W a.bin b.bin c.bin   (D = 1: the 2D kernel; D > 1: the 3D kernel)
#include "cuda_check.h"
#include "dlc_io.h"

// x is the fastest-varying thread coordinate and the last (contiguous) array axis:
// threads next to each other in x touch floats next to each other in memory.
__global__ void add_2d(const float* a, const float* b, float* c, int rows, int cols) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row < rows && col < cols) {  // a bounds check per axis: the grid overhangs on both
    size_t i = static_cast<size_t>(row) * cols + col;  // row-major: row * W + col
    c[i] = a[i] + b[i];
  }
}

__global__ void add_3d(const float* a, const float* b, float* c, int depth, int rows, int cols) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  int z = blockIdx.z * blockDim.z + threadIdx.z;
  if (z < depth && y < rows && x < cols) {
    size_t i = (static_cast<size_t>(z) * rows + y) * cols + x;  // (z * H + y) * W + x
    c[i] = a[i] + b[i];
  }
}

unsigned ceil_div(size_t n, unsigned d) { return static_cast<unsigned>((n + d - 1) / d); }

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s D H W a.bin b.bin c.bin\n", argv[0]);
    return 2;
  }
  size_t depth = parse_size(argv[1]), rows = parse_size(argv[2]), cols = parse_size(argv[3]);
  if (depth > (1u << 20) || rows > (1u << 20) || cols > (1u << 20)) {
    std::fprintf(stderr, "error: each of D, H, W must be at most 2^20 for this int-indexed lesson kernel\n");
    return 2;
  }
  size_t n = depth * rows * cols;
  std::vector<float> a = read_floats(argv[4], n), b = read_floats(argv[5], n), c(n);

  const size_t bytes = n * sizeof(float);
  float *d_a, *d_b, *d_c;
  CUDA_CHECK(cudaMalloc(&d_a, bytes));
  CUDA_CHECK(cudaMalloc(&d_b, bytes));
  CUDA_CHECK(cudaMalloc(&d_c, bytes));
  CUDA_CHECK(cudaMemcpy(d_a, a.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(d_b, b.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(d_c, 0xFF, bytes));  // NaN poison: a missed element stays NaN

  // gridDim.x may reach 2^31-1 but gridDim.y and .z only 65535: large extents go on x.
  if (depth == 1) {
    dim3 block(32, 8);  // 256 threads: one warp spans 32 consecutive columns of a row
    dim3 grid(ceil_div(cols, block.x), ceil_div(rows, block.y));
    add_2d<<<grid, block>>>(d_a, d_b, d_c, static_cast<int>(rows), static_cast<int>(cols));
  } else {
    dim3 block(32, 4, 2);
    dim3 grid(ceil_div(cols, block.x), ceil_div(rows, block.y), ceil_div(depth, block.z));
    add_3d<<<grid, block>>>(d_a, d_b, d_c, static_cast<int>(depth), static_cast<int>(rows),
                            static_cast<int>(cols));
  }
  CUDA_CHECK_LAUNCH();  // a grid with y or z above 65535 fails here with an invalid configuration
  CUDA_CHECK(cudaMemcpy(c.data(), d_c, bytes, cudaMemcpyDeviceToHost));

  CUDA_CHECK(cudaFree(d_a));
  CUDA_CHECK(cudaFree(d_b));
  CUDA_CHECK(cudaFree(d_c));
  write_floats(argv[6], c.data(), n);
  return 0;
}
