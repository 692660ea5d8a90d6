// vector_add: c = a + b for n float32 values.
// Step 4: a grid of blocks, one thread per element: the global index and the bounds check.
// Usage: vector_add N a.bin b.bin c.bin [THREADS_PER_BLOCK=256]   (raw float32 files; see dlc_io.h)
#include "cuda_check.h"
#include "dlc_io.h"

// __global__: runs on the GPU, launched from the host. Every thread runs this same body.
// The grid has gridDim.x blocks of blockDim.x threads; thread (blockIdx.x, threadIdx.x) owns
// element i = blockIdx.x * blockDim.x + threadIdx.x. The last block usually sticks out past n,
// so the threads there must do nothing: that is the bounds check.
__global__ void vector_add(const float* a, const float* b, float* c, size_t n) {
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // size_t: n may exceed 2^31
  if (i < n) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s N a.bin b.bin c.bin [THREADS_PER_BLOCK]\n", argv[0]);
    return 2;
  }
  size_t n = parse_size(argv[1]);
  unsigned block = argc == 6 ? static_cast<unsigned>(parse_size(argv[5])) : 256;
  unsigned grid = static_cast<unsigned>((n + block - 1) / block);  // ceil(n / block) blocks
  std::vector<float> a = read_floats(argv[2], n), b = read_floats(argv[3], n), c(n);

  // The GPU has its own memory (HBM). d_ pointers live there: the host must not dereference them,
  // and every byte crosses the PCIe/NVLink bus through cudaMemcpy.
  const size_t bytes = n * sizeof(float);
  float *d_a, *d_b, *d_c;
  CUDA_CHECK(cudaMalloc(&d_a, bytes));
  CUDA_CHECK(cudaMalloc(&d_b, bytes));
  CUDA_CHECK(cudaMalloc(&d_c, bytes));
  CUDA_CHECK(cudaMemcpy(d_a, a.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(d_b, b.data(), bytes, cudaMemcpyHostToDevice));
  // Poison the output: all bytes 0xFF is a NaN, so any element the kernel misses shows up.
  CUDA_CHECK(cudaMemset(d_c, 0xFF, bytes));

  // <<<blocks, threads per block>>>. More than 1024 threads per block is an invalid
  // configuration: the launch fails, and CUDA_CHECK_LAUNCH reports it instead of leaving NaNs.
  vector_add<<<grid, block>>>(d_a, d_b, d_c, n);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(c.data(), d_c, bytes, cudaMemcpyDeviceToHost));

  CUDA_CHECK(cudaFree(d_a));
  CUDA_CHECK(cudaFree(d_b));
  CUDA_CHECK(cudaFree(d_c));
  write_floats(argv[4], c.data(), n);
  return 0;
}
