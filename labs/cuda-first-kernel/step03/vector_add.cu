// vector_add: c = a + b for n float32 values.
// Step 3: explicit device memory: cudaMalloc, cudaMemcpy both ways, output poisoned first.
// Usage: vector_add N a.bin b.bin c.bin   (raw float32 files; see dlc_io.h)
#include "cuda_check.h"
#include "dlc_io.h"

// __global__: runs on the GPU, launched from the host. Every thread runs this same body;
// threadIdx.x says which thread it is. Thread t takes i = t, t + blockDim.x, t + 2*blockDim.x, ...
__global__ void vector_add(const float* a, const float* b, float* c, size_t n) {
  for (size_t i = threadIdx.x; i < n; i += blockDim.x) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s N a.bin b.bin c.bin\n", argv[0]);
    return 2;
  }
  size_t n = parse_size(argv[1]);
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

  // <<<blocks, threads per block>>>: one block of 256 threads. The launch returns at once;
  // CUDA_CHECK_LAUNCH reports a bad launch and waits for the kernel to finish.
  vector_add<<<1, 256>>>(d_a, d_b, d_c, n);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpy(c.data(), d_c, bytes, cudaMemcpyDeviceToHost));

  CUDA_CHECK(cudaFree(d_a));
  CUDA_CHECK(cudaFree(d_b));
  CUDA_CHECK(cudaFree(d_c));
  write_floats(argv[4], c.data(), n);
  return 0;
}
